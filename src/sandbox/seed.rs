//! The demo data both sandboxes start from.
//!
//! OpenERP is the master of the catalog, so the catalog here is described from OpenERP's side.
//! Items with a `magento_id` *also* exist in the Magento sandbox when it starts (as if the shop
//! had been filled by hand before the connector arrived): the first export must find and bind
//! them by SKU / category path instead of creating duplicates. Ids and values follow the
//! OpenMage recordings (`../shared/recordings/magento1/INDEX.md`) where they overlap.
//!
//! Orders exist only in Magento and are seeded by the Magento sandbox; they reference SKUs and
//! customers defined here. One product (`ELEC-HDPH-001`) exists only in Magento, so one seeded
//! order has a SKU unknown to OpenERP.

/// A category of the OpenERP tree (under "All / Saleable").
#[derive(Debug, Clone)]
pub struct SeedCategory {
    /// Stable key used by products and tests.
    pub key: &'static str,
    /// Parent key (`None`: directly under the exported root "All / Saleable").
    pub parent: Option<&'static str>,
    /// English name.
    pub name: &'static str,
    /// French name (store view `fr`).
    pub name_fr: &'static str,
    /// The addon's exportable flag.
    pub exportable: bool,
    /// Magento category id when the shop already has it under root 2, else `None`.
    pub magento_id: Option<i64>,
}

/// OpenERP product kind (Odoo 17 `detailed_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductKind {
    /// Storable (`product`): stock is tracked and exported.
    Storable,
    /// Consumable (`consu`): no stock tracking, skipped by the stock job.
    Consumable,
    /// Service (`service`): no stock; Magento `virtual`.
    Service,
}

/// Which tax a product carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaxKey {
    /// Taxable goods (OpenERP "Sales Tax 8.25%", Magento class 2 "Taxable Goods").
    Standard,
    /// No tax (Magento class 0 "None"): books.
    NoTax,
    /// A tax with no Magento mapping (OpenERP "Eco Tax 2%"): the product is reported, not exported.
    Unmapped,
}

/// Stock of one product in one warehouse.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeedStock {
    /// Quantity on hand.
    pub on_hand: f64,
    /// Confirmed incoming.
    pub incoming: f64,
    /// Confirmed outgoing.
    pub outgoing: f64,
    /// Reserved for outgoing moves (subtracted from `free_qty`).
    pub reserved: f64,
}

impl SeedStock {
    /// Stock with the given on-hand quantity only.
    pub const fn on_hand(q: f64) -> Self {
        SeedStock { on_hand: q, incoming: 0.0, outgoing: 0.0, reserved: 0.0 }
    }

    /// Forecast (`virtual_available`).
    pub fn forecast(&self) -> f64 {
        self.on_hand + self.incoming - self.outgoing
    }

    /// On hand minus reserved (`free_qty`).
    pub fn free(&self) -> f64 {
        self.on_hand - self.reserved
    }
}

/// A product of the demo catalog.
#[derive(Debug, Clone)]
pub struct SeedProduct {
    /// Internal reference / SKU (`None`: a product without one, reported by the export).
    pub sku: Option<String>,
    /// English name.
    pub name: String,
    /// French name.
    pub name_fr: String,
    /// Long description.
    pub description: String,
    /// Short (sale) description.
    pub short_description: String,
    /// List price, decimal text.
    pub price: &'static str,
    /// Weight in kg, decimal text.
    pub weight: &'static str,
    /// Category key.
    pub category: &'static str,
    /// Product kind.
    pub kind: ProductKind,
    /// Tax.
    pub tax: TaxKey,
    /// `sale_ok`.
    pub sale_ok: bool,
    /// `active` (false: archived).
    pub active: bool,
    /// The addon's exportable flag.
    pub exportable: bool,
    /// Stock in warehouse 1 (website 1) and warehouse 2 (website 2).
    pub stock: [SeedStock; 2],
    /// Present in OpenERP.
    pub in_openerp: bool,
    /// Magento product id when the shop already has it.
    pub magento_id: Option<i64>,
    /// Magento attribute set (4 Default, 9 Clothing).
    pub attribute_set: i64,
    /// Has a main image in OpenERP.
    pub has_image: bool,
}

/// A customer known to Magento (and maybe already to OpenERP).
#[derive(Debug, Clone)]
pub struct SeedCustomer {
    /// Magento customer id (`None`: guest-only person).
    pub magento_id: Option<i64>,
    /// Email as Magento stores it.
    pub email: &'static str,
    /// First name.
    pub firstname: &'static str,
    /// Last name.
    pub lastname: &'static str,
    /// Magento website.
    pub website_id: i64,
    /// Magento store view the account was created in.
    pub store_id: i64,
    /// Magento customer group (1 General, 2 Wholesale).
    pub group_id: i64,
    /// Email of an existing OpenERP partner for the same person (differently cased on purpose),
    /// or `None` when OpenERP does not know them yet.
    pub openerp_email: Option<&'static str>,
    /// Addresses in the Magento address book.
    pub addresses: Vec<SeedAddress>,
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedAddress {
    /// First name.
    pub firstname: &'static str,
    /// Last name.
    pub lastname: &'static str,
    /// Company, if any.
    pub company: Option<&'static str>,
    /// Street lines.
    pub street: &'static [&'static str],
    /// City.
    pub city: &'static str,
    /// Postcode.
    pub postcode: &'static str,
    /// Region / state code (ISO 3166-2 suffix, e.g. `CA`).
    pub region_code: Option<&'static str>,
    /// Region name.
    pub region: Option<&'static str>,
    /// Magento region id (`directory_region`).
    pub region_id: Option<i64>,
    /// ISO 3166-1 alpha-2 country.
    pub country: &'static str,
    /// Phone.
    pub telephone: &'static str,
    /// Default billing in the address book.
    pub default_billing: bool,
    /// Default shipping in the address book.
    pub default_shipping: bool,
}

/// Magento store structure: websites, groups (with their root category) and store views.
#[derive(Debug, Clone)]
pub struct SeedStoreView {
    /// Store view id.
    pub store_id: i64,
    /// Code.
    pub code: &'static str,
    /// Name.
    pub name: &'static str,
    /// Website id.
    pub website_id: i64,
    /// Website name.
    pub website_name: &'static str,
    /// Store group id.
    pub group_id: i64,
    /// Store group name.
    pub group_name: &'static str,
    /// Root category id of the group.
    pub root_category_id: i64,
    /// Order currency of the view.
    pub currency: &'static str,
    /// Base → order currency rate.
    pub base_to_order_rate: &'static str,
    /// OpenERP language mapped to this view.
    pub lang: &'static str,
    /// OpenERP warehouse index (0 or 1) mapped to this view's website.
    pub warehouse: usize,
}

/// The store views of the Magento sandbox.
pub fn store_views() -> Vec<SeedStoreView> {
    vec![
        SeedStoreView {
            store_id: 1,
            code: "default",
            name: "Default Store View",
            website_id: 1,
            website_name: "Main Website",
            group_id: 1,
            group_name: "Main Website Store",
            root_category_id: 2,
            currency: "USD",
            base_to_order_rate: "1.0000",
            lang: "en_US",
            warehouse: 0,
        },
        SeedStoreView {
            store_id: 2,
            code: "fr",
            name: "French Store View",
            website_id: 1,
            website_name: "Main Website",
            group_id: 1,
            group_name: "Main Website Store",
            root_category_id: 2,
            currency: "EUR",
            base_to_order_rate: "0.9000",
            lang: "fr_FR",
            warehouse: 0,
        },
        SeedStoreView {
            store_id: 3,
            code: "wholesale",
            name: "Wholesale Store View",
            website_id: 2,
            website_name: "Wholesale Website",
            group_id: 2,
            group_name: "Wholesale Store",
            root_category_id: 12,
            currency: "USD",
            base_to_order_rate: "1.0000",
            lang: "en_US",
            warehouse: 1,
        },
    ]
}

/// Magento product tax classes (`tax_class_id` options) as `(value, label)`.
pub const MAGENTO_TAX_CLASSES: &[(i64, &str)] = &[(0, "None"), (2, "Taxable Goods"), (4, "Shipping")];

/// OpenERP sale taxes: `(key, name, percent, price_include, magento_tax_class_id)`.
/// `None` for the class means "not mapped yet": `taxes.sync` proposes one by name or rate.
pub const OPENERP_TAXES: &[(&str, &str, &str, bool, Option<i64>)] = &[
    ("standard", "Sales Tax 8.25%", "8.25", false, Some(2)),
    ("ny", "Sales Tax 8.375%", "8.375", false, Some(2)),
    ("none", "No Tax 0%", "0", false, Some(0)),
    ("vat20", "VAT 20% (incl.)", "20", true, None),
    ("eco", "Eco Tax 2%", "2", false, None),
];

/// The category tree of the demo catalog (parents before children).
pub fn categories() -> Vec<SeedCategory> {
    let c = |key, parent, name, name_fr, exportable, magento_id| SeedCategory {
        key,
        parent,
        name,
        name_fr,
        exportable,
        magento_id,
    };
    vec![
        c("clothing", None, "Clothing", "Vêtements", true, Some(3)),
        c("men", Some("clothing"), "Men", "Hommes", true, Some(4)),
        c("women", Some("clothing"), "Women", "Femmes", true, Some(5)),
        c("electronics", None, "Electronics", "Électronique", true, Some(6)),
        c("phones", Some("electronics"), "Phones", "Téléphones", true, Some(7)),
        c("accessories", Some("electronics"), "Accessories", "Accessoires", true, Some(8)),
        c("home", None, "Home & Garden", "Maison & Jardin", true, Some(9)),
        c("books", None, "Books", "Livres", true, Some(10)),
        c("office", None, "Office", "Bureau", true, None),
        c("desks", Some("office"), "Desks", "Bureaux", true, None),
        c("internal", None, "Internal Supplies", "Fournitures internes", false, None),
    ]
}

#[allow(clippy::too_many_arguments)]
fn product(
    sku: Option<&str>,
    name: &str,
    name_fr: &str,
    price: &'static str,
    weight: &'static str,
    category: &'static str,
    kind: ProductKind,
    tax: TaxKey,
    stock: [f64; 2],
    magento_id: Option<i64>,
    attribute_set: i64,
) -> SeedProduct {
    SeedProduct {
        sku: sku.map(str::to_owned),
        name: name.to_owned(),
        name_fr: name_fr.to_owned(),
        description: format!("{name}: full description."),
        short_description: format!("{name}."),
        price,
        weight,
        category,
        kind,
        tax,
        sale_ok: true,
        active: true,
        exportable: true,
        stock: [SeedStock::on_hand(stock[0]), SeedStock::on_hand(stock[1])],
        in_openerp: true,
        magento_id,
        attribute_set,
        has_image: false,
    }
}

/// The demo catalog.
pub fn products() -> Vec<SeedProduct> {
    use ProductKind::{Consumable, Service, Storable};
    use TaxKey::{NoTax, Standard, Unmapped};
    let mut v = vec![
        product(
            Some("ELEC-PHN-001"),
            "Nokia 2610 Phone",
            "Téléphone Nokia 2610",
            "149.99",
            "0.2",
            "phones",
            Storable,
            Standard,
            [25.0, 10.0],
            Some(1),
            4,
        ),
        product(
            Some("ELEC-PHN-002"),
            "Samsung Galaxy S II",
            "Samsung Galaxy S II",
            "299.00",
            "0.3",
            "phones",
            Storable,
            Standard,
            [8.0, 0.0],
            Some(2),
            4,
        ),
        product(
            Some("ELEC-ACC-001"),
            "USB Charging Cable 1m",
            "Câble de charge USB 1m",
            "9.99",
            "0.05",
            "accessories",
            Storable,
            Standard,
            [120.0, 400.0],
            Some(3),
            4,
        ),
        product(
            Some("ELEC-ACC-002"),
            "Logitech Wireless Mouse M185",
            "Souris sans fil Logitech M185",
            "19.99",
            "0.1",
            "accessories",
            Storable,
            Standard,
            [0.0, 35.0],
            Some(4),
            4,
        ),
        product(
            Some("HOME-001"),
            "Ceramic Coffee Mug 350ml",
            "Mug en céramique 350ml",
            "7.95",
            "0.4",
            "home",
            Storable,
            Standard,
            [60.0, 200.0],
            Some(5),
            4,
        ),
        product(
            Some("HOME-002"),
            "Cotton Bath Towel",
            "Serviette de bain en coton",
            "14.50",
            "0.6",
            "home",
            Storable,
            Standard,
            [40.0, 0.0],
            Some(6),
            4,
        ),
        product(
            Some("BOOK-001"),
            "The Pragmatic Programmer",
            "Le Programmeur pragmatique",
            "39.90",
            "0.8",
            "books",
            Storable,
            NoTax,
            [12.0, 30.0],
            Some(7),
            4,
        ),
        product(
            Some("CLO-M-001"),
            "Men's Leather Belt",
            "Ceinture en cuir homme",
            "29.00",
            "0.3",
            "men",
            Storable,
            Standard,
            [18.0, 5.0],
            Some(8),
            9,
        ),
        product(
            Some("CLO-W-001"),
            "Women's Silk Scarf",
            "Foulard en soie femme",
            "45.00",
            "0.1",
            "women",
            Storable,
            Standard,
            [9.0, 0.0],
            Some(9),
            9,
        ),
        product(
            Some("HOME-003"),
            "Vintage Record Player",
            "Platine vinyle vintage",
            "189.00",
            "6.5",
            "home",
            Storable,
            Standard,
            [2.0, 0.0],
            Some(10),
            4,
        ),
        product(
            Some("SRV-WARRANTY-2Y"),
            "Extended Warranty 2 Years",
            "Extension de garantie 2 ans",
            "24.99",
            "0",
            "electronics",
            Service,
            Standard,
            [0.0, 0.0],
            Some(12),
            4,
        ),
    ];
    for (i, color) in ["Red", "Blue"].iter().enumerate() {
        for (j, size) in ["S", "M", "L"].iter().enumerate() {
            let sku = format!("CLO-TSHIRT-{}-{size}", color.to_uppercase());
            let fr = if *color == "Red" { "Rouge" } else { "Bleu" };
            let id = 13 + (i * 3 + j) as i64;
            let mut p = product(
                Some(&sku),
                &format!("Classic T-Shirt {color} {size}"),
                &format!("T-shirt classique {fr} {size}"),
                if *size == "L" { "21.90" } else { "19.90" },
                "0.2",
                "clothing",
                Storable,
                Standard,
                [15.0, 50.0],
                Some(id),
                9,
            );
            p.has_image = false;
            v.push(p);
        }
    }
    // In OpenERP only: the first export creates them in Magento.
    let mut lamp = product(
        Some("API-LAMP-001"),
        "Brass Desk Lamp",
        "Lampe de bureau en laiton",
        "49.90",
        "1.2",
        "home",
        Storable,
        Standard,
        [40.0, 0.0],
        None,
        4,
    );
    lamp.has_image = true;
    v.push(lamp);
    let mut desk = product(
        Some("OFF-DESK-001"),
        "Standing Desk",
        "Bureau assis-debout",
        "499.00",
        "32",
        "desks",
        Storable,
        Standard,
        [4.0, 12.0],
        None,
        4,
    );
    desk.has_image = true;
    desk.stock[0] = SeedStock { on_hand: 4.0, incoming: 10.0, outgoing: 6.0, reserved: 3.0 };
    v.push(desk);
    let mut chair = product(
        Some("OFF-CHAIR-001"),
        "Ergonomic Office Chair",
        "Chaise de bureau ergonomique",
        "229.00",
        "14",
        "office",
        Storable,
        Standard,
        [0.0, 0.0],
        None,
        4,
    );
    chair.stock[0] = SeedStock { on_hand: 0.0, incoming: 0.0, outgoing: 2.0, reserved: 0.0 };
    v.push(chair);
    v.push(product(
        Some("1001"),
        "Numeric SKU Widget",
        "Gadget à SKU numérique",
        "5.00",
        "0.05",
        "home",
        Storable,
        Standard,
        [100.0, 0.0],
        None,
        4,
    ));
    v.push(product(
        Some("OFF-PAPER-A4"),
        "A4 Printer Paper (500 sheets)",
        "Papier A4 (500 feuilles)",
        "6.49",
        "2.5",
        "office",
        Consumable,
        Standard,
        [0.0, 0.0],
        None,
        4,
    ));
    v.push(product(
        Some("HOME-ECO-BAG"),
        "Recycled Shopping Bag",
        "Sac de courses recyclé",
        "3.50",
        "0.05",
        "home",
        Storable,
        Unmapped,
        [300.0, 0.0],
        None,
        4,
    ));
    // Reported or skipped by the export.
    v.push(product(
        None,
        "Handmade Vase (no reference yet)",
        "Vase artisanal",
        "59.00",
        "1.5",
        "home",
        Storable,
        Standard,
        [3.0, 0.0],
        None,
        4,
    ));
    let mut archived = product(
        Some("ELEC-OLD-001"),
        "Discontinued Fax Machine",
        "Fax abandonné",
        "79.00",
        "4",
        "electronics",
        Storable,
        Standard,
        [1.0, 0.0],
        Some(11),
        4,
    );
    archived.active = false;
    v.push(archived);
    let mut private = product(
        Some("INT-STAPLER"),
        "Office Stapler (internal use)",
        "Agrafeuse (usage interne)",
        "12.00",
        "0.3",
        "internal",
        Consumable,
        Standard,
        [10.0, 0.0],
        None,
        4,
    );
    private.exportable = false;
    v.push(private);
    let mut not_sold = product(
        Some("RAW-STEEL-01"),
        "Steel Sheet (raw material)",
        "Tôle d'acier",
        "80.00",
        "20",
        "office",
        Storable,
        Standard,
        [50.0, 0.0],
        None,
        4,
    );
    not_sold.sale_ok = false;
    v.push(not_sold);
    let mut shipping = product(
        Some("SHIP"),
        "Shipping and Handling",
        "Frais de port",
        "0.00",
        "0",
        "internal",
        Service,
        Standard,
        [0.0, 0.0],
        None,
        4,
    );
    shipping.exportable = false;
    v.push(shipping);
    // Order import adjustments: discount lines and the rounding line (OpenERP only).
    for (sku, name, name_fr) in
        [(DISCOUNT_SKU, "Discount", "Remise"), (ROUNDING_SKU, "Rounding Difference", "Écart d'arrondi")]
    {
        let mut p = product(Some(sku), name, name_fr, "0.00", "0", "internal", Service, Standard, [0.0, 0.0], None, 4);
        p.exportable = false;
        v.push(p);
    }
    // In Magento only: ordered by a customer but unknown to OpenERP.
    let mut headphones = product(
        Some("ELEC-HDPH-001"),
        "Noise Cancelling Headphones",
        "Casque à réduction de bruit",
        "129.00",
        "0.4",
        "accessories",
        Storable,
        Standard,
        [0.0, 0.0],
        Some(22),
        4,
    );
    headphones.in_openerp = false;
    v.push(headphones);
    v
}

/// SKU of the shipping product used for shipping lines.
pub const SHIPPING_SKU: &str = "SHIP";

/// SKU of the product of discount lines (order import).
pub const DISCOUNT_SKU: &str = "DISCOUNT";

/// SKU of the product of the rounding adjustment line (order import).
pub const ROUNDING_SKU: &str = "ROUNDING";

/// SKU that exists only in Magento.
pub const MAGENTO_ONLY_SKU: &str = "ELEC-HDPH-001";

/// The configurable parent in Magento (id 19) whose children are the `CLO-TSHIRT-*` variants.
pub const CONFIGURABLE_SKU: &str = "CLO-TSHIRT";

/// Extra generated products for benchmarks: `n` storable, exportable products spread over
/// `categories` generated category keys (`bench-cat-<i>`), none of them in Magento yet.
pub fn generated_products(n: usize) -> impl Iterator<Item = SeedProduct> {
    (0..n).map(|i| {
        let mut p = product(
            Some(&format!("BENCH-{i:06}")),
            &format!("Benchmark Product {i}"),
            &format!("Produit de test {i}"),
            "10.00",
            "1",
            "home",
            ProductKind::Storable,
            TaxKey::Standard,
            [(i % 50) as f64, (i % 7) as f64],
            None,
            4,
        );
        p.description = format!("Generated product number {i} for benchmarks.");
        p
    })
}

/// Customers of the shop.
pub fn customers() -> Vec<SeedCustomer> {
    let john_ca = SeedAddress {
        firstname: "John",
        lastname: "Doe",
        company: None,
        street: &["1200 Ocean Ave", "Apt 4"],
        city: "Los Angeles",
        postcode: "90001",
        region_code: Some("CA"),
        region: Some("California"),
        region_id: Some(12),
        country: "US",
        telephone: "310-555-0100",
        default_billing: true,
        default_shipping: true,
    };
    let john_ny = SeedAddress {
        firstname: "John",
        lastname: "Doe",
        company: Some("Doe Consulting"),
        street: &["11 Wall Street", "Floor 3"],
        city: "New York",
        postcode: "10005",
        region_code: Some("NY"),
        region: Some("New York"),
        region_id: Some(43),
        country: "US",
        telephone: "212-555-0100",
        default_billing: false,
        default_shipping: false,
    };
    vec![
        SeedCustomer {
            magento_id: Some(1),
            email: "john.doe@example.com",
            firstname: "John",
            lastname: "Doe",
            website_id: 1,
            store_id: 1,
            group_id: 1,
            openerp_email: Some("John.Doe@Example.com"),
            addresses: vec![john_ca, john_ny],
        },
        SeedCustomer {
            magento_id: Some(2),
            email: "jane.smith@example.com",
            firstname: "Jane",
            lastname: "Smith",
            website_id: 1,
            store_id: 1,
            group_id: 2,
            openerp_email: None,
            addresses: vec![
                SeedAddress {
                    firstname: "Jane",
                    lastname: "Smith",
                    company: Some("Smith Wholesale LLC"),
                    street: &["350 Fifth Avenue"],
                    city: "New York",
                    postcode: "10118",
                    region_code: Some("NY"),
                    region: Some("New York"),
                    region_id: Some(43),
                    country: "US",
                    telephone: "212-555-0199",
                    default_billing: true,
                    default_shipping: false,
                },
                SeedAddress {
                    firstname: "Jane",
                    lastname: "Smith",
                    company: None,
                    street: &["500 Market Street"],
                    city: "San Francisco",
                    postcode: "94105",
                    region_code: Some("CA"),
                    region: Some("California"),
                    region_id: Some(12),
                    country: "US",
                    telephone: "415-555-0123",
                    default_billing: false,
                    default_shipping: true,
                },
            ],
        },
        SeedCustomer {
            magento_id: Some(3),
            email: "carlos.garcia@example.com",
            firstname: "Carlos",
            lastname: "García Núñez",
            website_id: 1,
            store_id: 1,
            group_id: 1,
            openerp_email: None,
            addresses: vec![SeedAddress {
                firstname: "Carlos",
                lastname: "García Núñez",
                company: None,
                street: &["700 Congress Ave"],
                city: "Austin",
                postcode: "78701",
                region_code: Some("TX"),
                region: Some("Texas"),
                region_id: Some(57),
                country: "US",
                telephone: "512-555-0142",
                default_billing: true,
                default_shipping: true,
            }],
        },
        SeedCustomer {
            magento_id: Some(4),
            email: "emily.martin@example.fr",
            firstname: "Emily",
            lastname: "Martin",
            website_id: 1,
            store_id: 2,
            group_id: 1,
            openerp_email: None,
            addresses: vec![SeedAddress {
                firstname: "Emily",
                lastname: "Martin",
                company: None,
                street: &["12 Rue de Rivoli"],
                city: "Paris",
                postcode: "75004",
                region_code: None,
                region: None,
                region_id: None,
                country: "FR",
                telephone: "+33 1 42 00 00 00",
                default_billing: true,
                default_shipping: true,
            }],
        },
        SeedCustomer {
            magento_id: None,
            email: "guest.buyer@example.org",
            firstname: "Grace",
            lastname: "Guest",
            website_id: 1,
            store_id: 1,
            group_id: 0,
            openerp_email: None,
            addresses: vec![SeedAddress {
                firstname: "Grace",
                lastname: "Guest",
                company: None,
                street: &["1 Liberty Plaza"],
                city: "New York",
                postcode: "10006",
                region_code: Some("NY"),
                region: Some("New York"),
                region_id: Some(43),
                country: "US",
                telephone: "646-555-0177",
                default_billing: true,
                default_shipping: true,
            }],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn skus_are_unique_and_categories_exist() {
        let cats: HashSet<_> = categories().iter().map(|c| c.key).collect();
        let mut skus = HashSet::new();
        for p in products() {
            assert!(cats.contains(p.category), "{} has unknown category {}", p.name, p.category);
            if let Some(s) = &p.sku {
                assert!(skus.insert(s.clone()), "duplicate sku {s}");
            }
        }
        assert!(skus.contains(SHIPPING_SKU) && skus.contains(MAGENTO_ONLY_SKU));
        assert!(skus.contains(DISCOUNT_SKU) && skus.contains(ROUNDING_SKU));
    }

    #[test]
    fn parents_come_before_children() {
        let mut seen = HashSet::new();
        for c in categories() {
            if let Some(p) = c.parent {
                assert!(seen.contains(p), "{} before its parent", c.key);
            }
            seen.insert(c.key);
        }
    }

    #[test]
    fn magento_ids_are_unique() {
        let mut ids = HashSet::new();
        for p in products() {
            if let Some(id) = p.magento_id {
                assert!(ids.insert(id), "duplicate magento id {id}");
            }
        }
    }
}
