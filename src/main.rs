//! `magento-connector` binary: parses the command line and hands over to
//! [`magento_connector::cli`] with the real wiring ([`magento_connector::app`]).

fn main() {
    let wiring = magento_connector::app::ConnectorWiring::default();
    std::process::exit(magento_connector::cli::main_with(&wiring));
}
