//! (placeholder: the command line comes with the foundation work)

/// Entry point of the binary; returns the process exit code.
pub fn main() -> i32 {
    eprintln!("magento-connector: the command line is not built yet");
    2
}
