//! Magento side: the `MagentoApi` trait and its Magento 1 XML-RPC implementation.
