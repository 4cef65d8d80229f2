//! The OpenERP client's image reads against the sandbox: only products that have an image are
//! read whole, found with one `bin_size` read, and the result is the same as reading every
//! product's image.

use dxr::Value;
use magento_connector::openerp::Context;
use magento_connector::sandbox::harness::Harness;
use magento_connector::sandbox::openerp::data::png_base64;

#[tokio::test]
async fn only_products_with_an_image_are_read_whole() {
    let h = Harness::start().await.unwrap();
    let client = &h.peers().openerp;
    let ctx = Context::default();
    let mut ids = h.openerp().search("product.product", &[]).unwrap();
    ids.sort_unstable();
    assert!(ids.len() > 12, "{}", ids.len());
    let with_image = |sku: &str| {
        let found = h.openerp().search("product.product", &[("default_code", "=", Value::String(sku.into()))]).unwrap();
        found[0]
    };
    let (lamp, desk) = (with_image("API-LAMP-001"), with_image("OFF-DESK-001"));
    let extra = ids[ids.len() / 2];
    let vals = [("image_1920".to_owned(), Value::String(png_base64("extra")))].into_iter().collect();
    h.openerp().write("product.product", &[extra], vals).unwrap();

    let present = client.products_with_image(&ids, &ctx).await.unwrap();
    let mut expected = vec![lamp, desk, extra];
    expected.sort_unstable();
    assert_eq!(present.into_iter().collect::<Vec<_>>(), expected);

    h.openerp().knobs().reset_counts();
    let images = client.product_images(&ids, &ctx).await.unwrap();
    let mut got: Vec<i64> = images.iter().map(|i| i.product_id).collect();
    got.sort_unstable();
    assert_eq!(got, expected);
    assert_eq!(h.openerp().knobs().count("product.product.read"), 2, "one read of the sizes, one of the three images");
    for one in &images {
        let alone = client.product_images(&[one.product_id], &ctx).await.unwrap();
        assert_eq!(alone.len(), 1);
        assert_eq!((&alone[0].sha256, alone[0].size, alone[0].mime), (&one.sha256, one.size, one.mime));
        assert_eq!(alone[0].mime, Some("image/png"));
    }
    h.shutdown().await;
}
