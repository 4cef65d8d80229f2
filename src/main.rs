//! `magento-connector` binary: parses the command line and hands over to [`magento_connector::cli`].

fn main() {
    std::process::exit(magento_connector::cli::main());
}
