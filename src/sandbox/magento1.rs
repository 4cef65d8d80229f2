//! Emulated Magento 1 / OpenMage 19.4 XML-RPC API.
