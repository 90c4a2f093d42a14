//! Every resource of the PrestaShop 8.1.2 Webservice root listing, with its fields,
//! JSON kinds, xlinks, synopsis attributes and associations.
//!
//! Resources with recorded responses (`../shared/fixtures/prestashop-8.1.2`) have field
//! tables derived from those recordings: order from the full XML records, kinds from the
//! `display=full` JSON, synopsis attributes verbatim from `schema=synopsis`. The others
//! follow PrestaShop 8.1's ObjectModel `$definition` and `$webserviceParameters`.

use crate::api::Version;
use crate::schema::{Association, Field, Kind, Resource};

/// Private builders so the tables below read as one line per field.
impl Field {
    const fn new(name: &'static str, kind: Kind) -> Field {
        Field {
            name,
            kind,
            xlink: None,
            synopsis: "",
            not_filterable: false,
        }
    }

    /// Links the field to a resource (`xlink:href` in XML).
    const fn link(mut self, resource: &'static str) -> Field {
        self.xlink = Some(resource);
        self
    }

    /// Attributes shown by `schema=synopsis`.
    const fn syn(mut self, attrs: &'static str) -> Field {
        self.synopsis = attrs;
        self
    }

    /// A getter field: `notFilterable="true"`, filtering on it answers code 34.
    const fn getter(mut self) -> Field {
        self.not_filterable = true;
        self
    }
}

const fn int(name: &'static str) -> Field {
    Field::new(name, Kind::Int)
}

const fn text(name: &'static str) -> Field {
    Field::new(name, Kind::Str)
}

const fn lang(name: &'static str) -> Field {
    Field::new(name, Kind::Lang)
}

/// Resources PrestaShop 9.0 no longer exposes (advanced stock management was removed).
const REMOVED_IN_9: &[&str] = &[
    "supply_orders",
    "supply_order_details",
    "supply_order_histories",
    "supply_order_receipt_histories",
    "supply_order_states",
    "warehouse_product_locations",
];

/// Looks a resource up by its plural URL name (e.g. `orders`) among the 8.1.2 resources.
pub fn resource(name: &str) -> Option<&'static Resource> {
    RESOURCES.iter().find(|r| r.name == name)
}

/// Looks a resource up by name among those a given version lists.
pub fn resource_for(version: Version, name: &str) -> Option<&'static Resource> {
    resources_for(version).find(|r| r.name == name)
}

/// The resources a given PrestaShop version lists, in root-listing (alphabetical) order:
/// 9.0 drops the advanced-stock resources and adds `order_returns`.
pub fn resources_for(version: Version) -> impl Iterator<Item = &'static Resource> {
    let v9 = version >= Version::V9_0;
    let returns = std::iter::once(&ORDER_RETURNS).filter(move |_| v9);
    let mut before = RESOURCES
        .iter()
        .filter(move |r| !v9 || !REMOVED_IN_9.contains(&r.name))
        .peekable();
    // Merge `order_returns` in at its alphabetical place.
    let mut returns = returns.peekable();
    std::iter::from_fn(move || match (before.peek(), returns.peek()) {
        (Some(a), Some(b)) if b.name < a.name => returns.next(),
        (Some(_), _) => before.next(),
        (None, _) => returns.next(),
    })
}

/// Element / key name of a list (`objectsNodeName`): the resource name, except where
/// PrestaShop's class says otherwise (`/api/order_slip` lists `<order_slips>`).
pub fn list_node(resource: &Resource) -> &'static str {
    match resource.name {
        "order_slip" => "order_slips",
        "stock_movements" => "stock_mvts",
        "product_customization_fields" => "customization_fields",
        name => name,
    }
}

/// `order_returns`, listed from PrestaShop 9.0 on (OrderReturn).
static ORDER_RETURNS: Resource = Resource {
    name: "order_returns",
    singular: "order_return",
    description: "The order returns",
    has_schema: true,
    fields: &[
        int("id_customer")
            .link("customers")
            .syn(r#"required="true" format="isUnsignedId""#),
        int("id_order")
            .link("orders")
            .syn(r#"required="true" format="isUnsignedId""#),
        int("state").syn(r#"format="isInt""#),
        text("question").syn(r#"format="isCleanHtml""#),
        text("date_add").syn(r#"format="isDate""#),
        text("date_upd").syn(r#"format="isDate""#),
    ],
    associations: &[],
};

/// Every resource of the 8.1.2 root listing, in its order (69 resources).
pub static RESOURCES: &[Resource] = &[
    Resource {
        name: "addresses",
        singular: "address",
        description: "The Customer, Brand and Customer addresses",
        has_schema: true,
        fields: ADDRESSES_FIELDS,
        associations: ADDRESSES_ASSOCIATIONS,
    },
    Resource {
        name: "attachments",
        singular: "attachment",
        description: "The product Attachments",
        has_schema: false,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "carriers",
        singular: "carrier",
        description: "The Carriers",
        has_schema: true,
        fields: CARRIERS_FIELDS,
        associations: CARRIERS_ASSOCIATIONS,
    },
    Resource {
        name: "cart_rules",
        singular: "cart_rule",
        description: "Cart rules management",
        has_schema: true,
        fields: CART_RULES_FIELDS,
        associations: &[],
    },
    Resource {
        name: "carts",
        singular: "cart",
        description: "Customer's carts",
        has_schema: true,
        fields: CARTS_FIELDS,
        associations: CARTS_ASSOCIATIONS,
    },
    Resource {
        name: "categories",
        singular: "category",
        description: "The product categories",
        has_schema: true,
        fields: CATEGORIES_FIELDS,
        associations: CATEGORIES_ASSOCIATIONS,
    },
    Resource {
        name: "combinations",
        singular: "combination",
        description: "The product combinations",
        has_schema: true,
        fields: COMBINATIONS_FIELDS,
        associations: COMBINATIONS_ASSOCIATIONS,
    },
    Resource {
        name: "configurations",
        singular: "configuration",
        description: "Shop configuration",
        has_schema: true,
        fields: CONFIGURATIONS_FIELDS,
        associations: CONFIGURATIONS_ASSOCIATIONS,
    },
    Resource {
        name: "contacts",
        singular: "contact",
        description: "Shop contacts",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "content_management_system",
        singular: "content",
        description: "Content management system",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "countries",
        singular: "country",
        description: "The countries",
        has_schema: true,
        fields: COUNTRIES_FIELDS,
        associations: COUNTRIES_ASSOCIATIONS,
    },
    Resource {
        name: "currencies",
        singular: "currency",
        description: "The currencies",
        has_schema: true,
        fields: CURRENCIES_FIELDS,
        associations: CURRENCIES_ASSOCIATIONS,
    },
    Resource {
        name: "customer_messages",
        singular: "customer_message",
        description: "Customer services messages",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "customer_threads",
        singular: "customer_thread",
        description: "Customer services threads",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "customers",
        singular: "customer",
        description: "The e-shop's customers",
        has_schema: true,
        fields: CUSTOMERS_FIELDS,
        associations: CUSTOMERS_ASSOCIATIONS,
    },
    Resource {
        name: "customizations",
        singular: "customization",
        description: "Customization values",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "deliveries",
        singular: "delivery",
        description: "Product delivery",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "employees",
        singular: "employee",
        description: "The Employees",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "groups",
        singular: "group",
        description: "The customer's groups",
        has_schema: true,
        fields: GROUPS_FIELDS,
        associations: &[],
    },
    Resource {
        name: "guests",
        singular: "guest",
        description: "The guests",
        has_schema: true,
        fields: GUESTS_FIELDS,
        associations: &[],
    },
    Resource {
        name: "image_types",
        singular: "image_type",
        description: "The image types",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "images",
        singular: "image",
        description: "The images",
        has_schema: false,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "languages",
        singular: "language",
        description: "Shop languages",
        has_schema: true,
        fields: LANGUAGES_FIELDS,
        associations: LANGUAGES_ASSOCIATIONS,
    },
    Resource {
        name: "manufacturers",
        singular: "manufacturer",
        description: "The product brands",
        has_schema: true,
        fields: MANUFACTURERS_FIELDS,
        associations: MANUFACTURERS_ASSOCIATIONS,
    },
    Resource {
        name: "messages",
        singular: "message",
        description: "The Messages",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "order_carriers",
        singular: "order_carrier",
        description: "The Order carriers",
        has_schema: true,
        fields: ORDER_CARRIERS_FIELDS,
        associations: ORDER_CARRIERS_ASSOCIATIONS,
    },
    Resource {
        name: "order_cart_rules",
        singular: "order_cart_rule",
        description: "The Order cart rules",
        has_schema: true,
        fields: ORDER_CART_RULES_FIELDS,
        associations: &[],
    },
    Resource {
        name: "order_details",
        singular: "order_detail",
        description: "Details of an order",
        has_schema: true,
        fields: ORDER_DETAILS_FIELDS,
        associations: ORDER_DETAILS_ASSOCIATIONS,
    },
    Resource {
        name: "order_histories",
        singular: "order_history",
        description: "The Order histories",
        has_schema: true,
        fields: ORDER_HISTORIES_FIELDS,
        associations: ORDER_HISTORIES_ASSOCIATIONS,
    },
    Resource {
        name: "order_invoices",
        singular: "order_invoice",
        description: "The Order invoices",
        has_schema: true,
        fields: ORDER_INVOICES_FIELDS,
        associations: &[],
    },
    Resource {
        name: "order_payments",
        singular: "order_payment",
        description: "The Order payments",
        has_schema: true,
        fields: ORDER_PAYMENTS_FIELDS,
        associations: ORDER_PAYMENTS_ASSOCIATIONS,
    },
    Resource {
        name: "order_slip",
        singular: "order_slip",
        description: "The Order slips",
        has_schema: true,
        fields: ORDER_SLIP_FIELDS,
        associations: ORDER_SLIP_ASSOCIATIONS,
    },
    Resource {
        name: "order_states",
        singular: "order_state",
        description: "The Order statuses",
        has_schema: true,
        fields: ORDER_STATES_FIELDS,
        associations: ORDER_STATES_ASSOCIATIONS,
    },
    Resource {
        name: "orders",
        singular: "order",
        description: "The Customers orders",
        has_schema: true,
        fields: ORDERS_FIELDS,
        associations: ORDERS_ASSOCIATIONS,
    },
    Resource {
        name: "price_ranges",
        singular: "price_range",
        description: "Price ranges",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "product_customization_fields",
        singular: "customization_field",
        description: "Customization Field",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "product_feature_values",
        singular: "product_feature_value",
        description: "The product feature values",
        has_schema: true,
        fields: PRODUCT_FEATURE_VALUES_FIELDS,
        associations: &[],
    },
    Resource {
        name: "product_features",
        singular: "product_feature",
        description: "The product features",
        has_schema: true,
        fields: PRODUCT_FEATURES_FIELDS,
        associations: &[],
    },
    Resource {
        name: "product_option_values",
        singular: "product_option_value",
        description: "The product options value",
        has_schema: true,
        fields: PRODUCT_OPTION_VALUES_FIELDS,
        associations: PRODUCT_OPTION_VALUES_ASSOCIATIONS,
    },
    Resource {
        name: "product_options",
        singular: "product_option",
        description: "The product options",
        has_schema: true,
        fields: PRODUCT_OPTIONS_FIELDS,
        associations: PRODUCT_OPTIONS_ASSOCIATIONS,
    },
    Resource {
        name: "product_suppliers",
        singular: "product_supplier",
        description: "Product Suppliers",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "products",
        singular: "product",
        description: "The products",
        has_schema: true,
        fields: PRODUCTS_FIELDS,
        associations: PRODUCTS_ASSOCIATIONS,
    },
    Resource {
        name: "search",
        singular: "search",
        description: "Search",
        has_schema: false,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "shop_groups",
        singular: "shop_group",
        description: "Shop groups from multi-shop feature",
        has_schema: true,
        fields: SHOP_GROUPS_FIELDS,
        associations: &[],
    },
    Resource {
        name: "shop_urls",
        singular: "shop_url",
        description: "Shop URLs from multi-shop feature",
        has_schema: true,
        fields: SHOP_URLS_FIELDS,
        associations: &[],
    },
    Resource {
        name: "shops",
        singular: "shop",
        description: "Shops from multi-shop feature",
        has_schema: true,
        fields: SHOPS_FIELDS,
        associations: SHOPS_ASSOCIATIONS,
    },
    Resource {
        name: "specific_price_rules",
        singular: "specific_price_rule",
        description: "Specific price management",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "specific_prices",
        singular: "specific_price",
        description: "Specific price management",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "states",
        singular: "state",
        description: "The available states of countries",
        has_schema: true,
        fields: STATES_FIELDS,
        associations: &[],
    },
    Resource {
        name: "stock_availables",
        singular: "stock_available",
        description: "Available quantities",
        has_schema: true,
        fields: STOCK_AVAILABLES_FIELDS,
        associations: STOCK_AVAILABLES_ASSOCIATIONS,
    },
    Resource {
        name: "stock_movement_reasons",
        singular: "stock_movement_reason",
        description: "Stock movement reason",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "stock_movements",
        singular: "stock_mvt",
        description: "Stock movements",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "stocks",
        singular: "stock",
        description: "Stocks",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "stores",
        singular: "store",
        description: "The stores",
        has_schema: true,
        fields: STORES_FIELDS,
        associations: STORES_ASSOCIATIONS,
    },
    Resource {
        name: "suppliers",
        singular: "supplier",
        description: "The product suppliers",
        has_schema: true,
        fields: SUPPLIERS_FIELDS,
        associations: &[],
    },
    Resource {
        name: "supply_order_details",
        singular: "supply_order_detail",
        description: "Supply Order Details",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "supply_order_histories",
        singular: "supply_order_history",
        description: "Supply Order Histories",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "supply_order_receipt_histories",
        singular: "supply_order_receipt_history",
        description: "Supply Order Receipt Histories",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "supply_order_states",
        singular: "supply_order_state",
        description: "Supply Order Statuses",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "supply_orders",
        singular: "supply_order",
        description: "Supply Orders",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "tags",
        singular: "tag",
        description: "The Products tags",
        has_schema: true,
        fields: TAGS_FIELDS,
        associations: &[],
    },
    Resource {
        name: "tax_rule_groups",
        singular: "tax_rule_group",
        description: "Tax rule groups",
        has_schema: true,
        fields: TAX_RULE_GROUPS_FIELDS,
        associations: TAX_RULE_GROUPS_ASSOCIATIONS,
    },
    Resource {
        name: "tax_rules",
        singular: "tax_rule",
        description: "Tax rules entity",
        has_schema: true,
        fields: TAX_RULES_FIELDS,
        associations: TAX_RULES_ASSOCIATIONS,
    },
    Resource {
        name: "taxes",
        singular: "tax",
        description: "The tax rate",
        has_schema: true,
        fields: TAXES_FIELDS,
        associations: TAXES_ASSOCIATIONS,
    },
    Resource {
        name: "translated_configurations",
        singular: "translated_configuration",
        description: "Shop configuration",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "warehouse_product_locations",
        singular: "warehouse_product_location",
        description: "Location of products in warehouses",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "warehouses",
        singular: "warehouse",
        description: "Warehouses",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "weight_ranges",
        singular: "weight_range",
        description: "Weight ranges",
        has_schema: true,
        fields: &[],
        associations: &[],
    },
    Resource {
        name: "zones",
        singular: "zone",
        description: "The Countries zones",
        has_schema: true,
        fields: ZONES_FIELDS,
        associations: &[],
    },
];

/// Fields of `addresses`, from the recorded 8.1.2 responses.
static ADDRESSES_FIELDS: &[Field] = &[
    int("id_customer")
        .link("customers")
        .syn(r#"format="isNullOrUnsignedId""#),
    int("id_manufacturer")
        .link("manufacturers")
        .syn(r#"format="isNullOrUnsignedId""#),
    int("id_supplier")
        .link("suppliers")
        .syn(r#"format="isNullOrUnsignedId""#),
    int("id_warehouse")
        .link("warehouses")
        .syn(r#"format="isNullOrUnsignedId""#),
    int("id_country")
        .link("countries")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("id_state")
        .link("states")
        .syn(r#"format="isNullOrUnsignedId""#),
    text("alias").syn(r#"required="true" maxSize="32" format="isGenericName""#),
    text("company").syn(r#"maxSize="255" format="isGenericName""#),
    text("lastname").syn(r#"required="true" maxSize="255" format="isName""#),
    text("firstname").syn(r#"required="true" maxSize="255" format="isName""#),
    text("vat_number").syn(r#"format="isGenericName""#),
    text("address1").syn(r#"required="true" maxSize="128" format="isAddress""#),
    text("address2").syn(r#"maxSize="128" format="isAddress""#),
    text("postcode").syn(r#"maxSize="12" format="isPostCode""#),
    text("city").syn(r#"required="true" maxSize="64" format="isCityName""#),
    text("other").syn(r#"maxSize="300" format="isMessage""#),
    text("phone").syn(r#"maxSize="32" format="isPhoneNumber""#),
    text("phone_mobile").syn(r#"maxSize="32" format="isPhoneNumber""#),
    text("dni").syn(r#"maxSize="16" format="isDniLite""#),
    text("deleted").syn(r#"format="isBool""#),
    text("date_add").syn(r#"format="isDate""#),
    text("date_upd").syn(r#"format="isDate""#),
];

static ADDRESSES_ASSOCIATIONS: &[Association] = &[];

/// Fields of `carriers`, from the recorded 8.1.2 responses.
static CARRIERS_FIELDS: &[Field] = &[
    text("deleted").syn(r#"format="isBool""#),
    text("is_module").syn(r#"format="isBool""#),
    int("id_tax_rules_group").link("tax_rule_groups").getter(),
    int("id_reference"),
    text("name").syn(r#"required="true" maxSize="64" format="isCarrierName""#),
    text("active").syn(r#"required="true" format="isBool""#),
    text("is_free").syn(r#"format="isBool""#),
    text("url").syn(r#"format="isAbsoluteUrl""#),
    text("shipping_handling").syn(r#"format="isBool""#),
    text("shipping_external"),
    text("range_behavior").syn(r#"format="isBool""#),
    int("shipping_method").syn(r#"format="isUnsignedInt""#),
    int("max_width").syn(r#"format="isUnsignedInt""#),
    int("max_height").syn(r#"format="isUnsignedInt""#),
    int("max_depth").syn(r#"format="isUnsignedInt""#),
    text("max_weight").syn(r#"format="isFloat""#),
    int("grade").syn(r#"maxSize="1" format="isUnsignedInt""#),
    text("external_module_name").syn(r#"maxSize="64""#),
    text("need_range"),
    int("position"),
    lang("delay").syn(r#"required="true" maxSize="512" format="isGenericName""#),
];

static CARRIERS_ASSOCIATIONS: &[Association] = &[];

/// Fields of `categories`, from the recorded 8.1.2 responses.
static CATEGORIES_FIELDS: &[Field] = &[
    int("id_parent")
        .link("categories")
        .syn(r#"format="isUnsignedInt""#),
    int("level_depth").syn(r#"read_only="true" format="isUnsignedInt" readOnly="true""#),
    int("nb_products_recursive")
        .syn(r#"read_only="true" readOnly="true""#)
        .getter(),
    text("active").syn(r#"required="true" format="isBool""#),
    int("id_shop_default").syn(r#"format="isUnsignedId""#),
    text("is_root_category").syn(r#"format="isBool""#),
    int("position"),
    text("date_add").syn(r#"format="isDate""#),
    text("date_upd").syn(r#"format="isDate""#),
    lang("name").syn(r#"required="true" maxSize="128" format="isCatalogName""#),
    lang("link_rewrite").syn(r#"required="true" maxSize="128" format="isLinkRewrite""#),
    lang("description").syn(r#"format="isCleanHtml""#),
    lang("additional_description").syn(r#"format="isCleanHtml""#),
    lang("meta_title").syn(r#"maxSize="255" format="isGenericName""#),
    lang("meta_description").syn(r#"maxSize="512" format="isGenericName""#),
    lang("meta_keywords").syn(r#"maxSize="255" format="isGenericName""#),
];

static CATEGORIES_CATEGORIES: &[Field] = &[int("id")];

static CATEGORIES_PRODUCTS: &[Field] = &[int("id")];

static CATEGORIES_ASSOCIATIONS: &[Association] = &[
    Association {
        name: "categories",
        node: "category",
        api: Some("categories"),
        fields: CATEGORIES_CATEGORIES,
    },
    Association {
        name: "products",
        node: "product",
        api: Some("products"),
        fields: CATEGORIES_PRODUCTS,
    },
];

/// Fields of `combinations`, from the recorded 8.1.2 responses.
static COMBINATIONS_FIELDS: &[Field] = &[
    int("id_product")
        .link("products")
        .syn(r#"required="true" format="isUnsignedId""#),
    text("ean13").syn(r#"maxSize="13" format="isEan13""#),
    text("isbn").syn(r#"maxSize="32" format="isIsbn""#),
    text("upc").syn(r#"maxSize="12" format="isUpc""#),
    text("mpn").syn(r#"maxSize="40" format="isMpn""#),
    text("reference").syn(r#"maxSize="64""#),
    text("supplier_reference").syn(r#"maxSize="64""#),
    text("wholesale_price").syn(r#"maxSize="27" format="isNegativePrice""#),
    text("price").syn(r#"maxSize="20" format="isNegativePrice""#),
    text("ecotax").syn(r#"maxSize="20" format="isPrice""#),
    text("weight").syn(r#"format="isFloat""#),
    text("unit_price_impact").syn(r#"maxSize="20" format="isNegativePrice""#),
    int("minimal_quantity").syn(r#"required="true" format="isUnsignedId""#),
    int("low_stock_threshold").syn(r#"format="isInt""#),
    text("low_stock_alert").syn(r#"format="isBool""#),
    text("default_on").syn(r#"format="isBool""#),
    text("available_date").syn(r#"format="isDateFormat""#),
    lang("available_now").syn(r#"maxSize="255" format="isGenericName""#),
    lang("available_later").syn(r#"maxSize="255" format="IsGenericName""#),
];

static COMBINATIONS_PRODUCT_OPTION_VALUES: &[Field] = &[int("id")];
static COMBINATIONS_IMAGES: &[Field] = &[int("id")];

static COMBINATIONS_ASSOCIATIONS: &[Association] = &[
    Association {
        name: "product_option_values",
        node: "product_option_value",
        api: Some("product_option_values"),
        fields: COMBINATIONS_PRODUCT_OPTION_VALUES,
    },
    Association {
        name: "images",
        node: "image",
        api: Some("images/products"),
        fields: COMBINATIONS_IMAGES,
    },
];

/// Fields of `configurations`, from the recorded 8.1.2 responses.
static CONFIGURATIONS_FIELDS: &[Field] = &[
    text("value"),
    text("name").syn(r#"required="true" maxSize="254" format="isConfigName""#),
    text("id_shop_group").syn(r#"format="isUnsignedId""#),
    text("id_shop").syn(r#"format="isUnsignedId""#),
    text("date_add").syn(r#"format="isDate""#),
    text("date_upd").syn(r#"format="isDate""#),
];

static CONFIGURATIONS_ASSOCIATIONS: &[Association] = &[];

/// Fields of `countries`, from the recorded 8.1.2 responses.
static COUNTRIES_FIELDS: &[Field] = &[
    int("id_zone")
        .link("zones")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("id_currency")
        .link("currencies")
        .syn(r#"format="isUnsignedId""#),
    int("call_prefix").syn(r#"format="isInt""#),
    text("iso_code").syn(r#"required="true" maxSize="3" format="isLanguageIsoCode""#),
    text("active").syn(r#"format="isBool""#),
    text("contains_states").syn(r#"required="true" format="isBool""#),
    text("need_identification_number").syn(r#"required="true" format="isBool""#),
    text("need_zip_code").syn(r#"format="isBool""#),
    text("zip_code_format").syn(r#"format="isZipCodeFormat""#),
    text("display_tax_label").syn(r#"required="true" format="isBool""#),
    lang("name").syn(r#"required="true" maxSize="64" format="isGenericName""#),
];

static COUNTRIES_ASSOCIATIONS: &[Association] = &[];

/// Fields of `currencies`, from the recorded 8.1.2 responses.
static CURRENCIES_FIELDS: &[Field] = &[
    lang("names"),
    text("name")
        .syn(r#"required="true" maxSize="255" format="isGenericName""#)
        .getter(),
    lang("symbol").syn(r#"maxSize="255""#),
    text("iso_code").syn(r#"required="true" maxSize="3" format="isLanguageIsoCode""#),
    text("numeric_iso_code").syn(r#"maxSize="3" format="isNumericIsoCode""#),
    int("precision").syn(r#"format="isInt""#),
    text("conversion_rate").syn(r#"required="true" format="isUnsignedFloat""#),
    int("deleted").syn(r#"format="isBool""#),
    int("active").syn(r#"format="isBool""#),
    int("unofficial").syn(r#"format="isBool""#),
    int("modified").syn(r#"format="isBool""#),
    lang("pattern").syn(r#"maxSize="255""#),
];

static CURRENCIES_ASSOCIATIONS: &[Association] = &[];

/// Fields of `customers`, from the recorded 8.1.2 responses.
static CUSTOMERS_FIELDS: &[Field] = &[
    int("id_default_group").link("groups"),
    int("id_lang")
        .link("languages")
        .syn(r#"format="isUnsignedId""#),
    text("newsletter_date_add"),
    text("ip_registration_newsletter"),
    text("last_passwd_gen").syn(r#"readOnly="true""#),
    text("secure_key").syn(r#"format="isMd5" readOnly="true""#),
    text("deleted").syn(r#"format="isBool""#),
    text("passwd").syn(r#"required="true" maxSize="255" format="isHashedPassword""#),
    text("lastname").syn(r#"required="true" maxSize="255" format="isCustomerName""#),
    text("firstname").syn(r#"required="true" maxSize="255" format="isCustomerName""#),
    text("email").syn(r#"required="true" maxSize="255" format="isEmail""#),
    int("id_gender").syn(r#"format="isUnsignedId""#),
    text("birthday").syn(r#"format="isBirthDate""#),
    text("newsletter").syn(r#"format="isBool""#),
    text("optin").syn(r#"format="isBool""#),
    text("website").syn(r#"format="isUrl""#),
    text("company").syn(r#"format="isGenericName""#),
    text("siret").syn(r#"format="isGenericName""#),
    text("ape").syn(r#"format="isApe""#),
    text("outstanding_allow_amount").syn(r#"format="isFloat""#),
    text("show_public_prices").syn(r#"format="isBool""#),
    int("id_risk").syn(r#"format="isUnsignedInt""#),
    int("max_payment_days").syn(r#"format="isUnsignedInt""#),
    text("active").syn(r#"format="isBool""#),
    text("note").syn(r#"maxSize="65000""#),
    text("is_guest").syn(r#"format="isBool""#),
    int("id_shop").syn(r#"format="isUnsignedId""#),
    int("id_shop_group").syn(r#"format="isUnsignedId""#),
    text("date_add").syn(r#"format="isDate""#),
    text("date_upd").syn(r#"format="isDate""#),
    text("reset_password_token").syn(r#"maxSize="40" format="isSha1""#),
    text("reset_password_validity").syn(r#"format="isDateOrNull""#),
];

static CUSTOMERS_GROUPS: &[Field] = &[int("id")];

static CUSTOMERS_ASSOCIATIONS: &[Association] = &[Association {
    name: "groups",
    node: "group",
    api: Some("groups"),
    fields: CUSTOMERS_GROUPS,
}];

/// Fields of `languages`, from the recorded 8.1.2 responses.
static LANGUAGES_FIELDS: &[Field] = &[
    text("name").syn(r#"required="true" maxSize="32" format="isGenericName""#),
    text("iso_code").syn(r#"required="true" maxSize="2" format="isLanguageIsoCode""#),
    text("locale").syn(r#"maxSize="5" format="isLocale""#),
    text("language_code").syn(r#"maxSize="5" format="isLanguageCode""#),
    int("active").syn(r#"format="isBool""#),
    int("is_rtl").syn(r#"format="isBool""#),
    text("date_format_lite").syn(r#"required="true" maxSize="32" format="isPhpDateFormat""#),
    text("date_format_full").syn(r#"required="true" maxSize="32" format="isPhpDateFormat""#),
];

static LANGUAGES_ASSOCIATIONS: &[Association] = &[];

/// Fields of `order_carriers`, from the recorded 8.1.2 responses.
static ORDER_CARRIERS_FIELDS: &[Field] = &[
    int("id_order")
        .link("orders")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("id_carrier")
        .link("carriers")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("id_order_invoice").syn(r#"format="isUnsignedId""#),
    text("weight").syn(r#"format="isFloat""#),
    text("shipping_cost_tax_excl").syn(r#"format="isFloat""#),
    text("shipping_cost_tax_incl").syn(r#"format="isFloat""#),
    text("tracking_number").syn(r#"format="isTrackingNumber""#),
    text("date_add").syn(r#"format="isDate""#),
];

static ORDER_CARRIERS_ASSOCIATIONS: &[Association] = &[];

/// Fields of `order_details`, from the recorded 8.1.2 responses.
static ORDER_DETAILS_FIELDS: &[Field] = &[
    int("id_order")
        .link("orders")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("product_id")
        .link("products")
        .syn(r#"format="isUnsignedId""#),
    int("product_attribute_id")
        .link("combinations")
        .syn(r#"format="isUnsignedId""#),
    int("product_quantity_reinjected").syn(r#"format="isUnsignedInt""#),
    text("group_reduction").syn(r#"format="isFloat""#),
    int("discount_quantity_applied").syn(r#"format="isInt""#),
    text("download_hash").syn(r#"format="isGenericName""#),
    text("download_deadline").syn(r#"format="isDateFormat""#),
    int("id_order_invoice").syn(r#"format="isUnsignedId""#),
    int("id_warehouse").syn(r#"required="true" format="isUnsignedId""#),
    int("id_shop").syn(r#"required="true" format="isUnsignedId""#),
    int("id_customization").syn(r#"format="isUnsignedId""#),
    text("product_name").syn(r#"required="true" format="isGenericName""#),
    int("product_quantity").syn(r#"required="true" format="isInt""#),
    int("product_quantity_in_stock").syn(r#"format="isInt""#),
    int("product_quantity_return").syn(r#"format="isUnsignedInt""#),
    int("product_quantity_refunded").syn(r#"format="isUnsignedInt""#),
    text("product_price").syn(r#"required="true" format="isPrice""#),
    text("reduction_percent").syn(r#"format="isFloat""#),
    text("reduction_amount").syn(r#"format="isPrice""#),
    text("reduction_amount_tax_incl").syn(r#"format="isPrice""#),
    text("reduction_amount_tax_excl").syn(r#"format="isPrice""#),
    text("product_quantity_discount").syn(r#"format="isFloat""#),
    text("product_ean13").syn(r#"format="isEan13""#),
    text("product_isbn").syn(r#"format="isIsbn""#),
    text("product_upc").syn(r#"format="isUpc""#),
    text("product_mpn").syn(r#"format="isMpn""#),
    text("product_reference").syn(r#"format="isReference""#),
    text("product_supplier_reference").syn(r#"format="isReference""#),
    text("product_weight").syn(r#"format="isFloat""#),
    int("tax_computation_method").syn(r#"format="isUnsignedId""#),
    int("id_tax_rules_group").syn(r#"format="isInt""#),
    text("ecotax").syn(r#"format="isFloat""#),
    text("ecotax_tax_rate").syn(r#"format="isFloat""#),
    int("download_nb").syn(r#"format="isInt""#),
    text("unit_price_tax_incl").syn(r#"format="isPrice""#),
    text("unit_price_tax_excl").syn(r#"format="isPrice""#),
    text("total_price_tax_incl").syn(r#"format="isPrice""#),
    text("total_price_tax_excl").syn(r#"format="isPrice""#),
    text("total_shipping_price_tax_excl").syn(r#"format="isPrice""#),
    text("total_shipping_price_tax_incl").syn(r#"format="isPrice""#),
    text("purchase_supplier_price").syn(r#"format="isPrice""#),
    text("original_product_price").syn(r#"format="isPrice""#),
    text("original_wholesale_price").syn(r#"format="isPrice""#),
    text("total_refunded_tax_excl").syn(r#"format="isPrice""#),
    text("total_refunded_tax_incl").syn(r#"format="isPrice""#),
];

static ORDER_DETAILS_TAXES: &[Field] = &[int("id")];

static ORDER_DETAILS_ASSOCIATIONS: &[Association] = &[Association {
    name: "taxes",
    node: "tax",
    api: Some("taxes"),
    fields: ORDER_DETAILS_TAXES,
}];

/// Fields of `order_histories`, from the recorded 8.1.2 responses.
static ORDER_HISTORIES_FIELDS: &[Field] = &[
    int("id_employee")
        .link("employees")
        .syn(r#"format="isUnsignedId""#),
    int("id_order_state")
        .link("order_states")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("id_order")
        .link("orders")
        .syn(r#"required="true" format="isUnsignedId""#),
    text("date_add").syn(r#"format="isDate""#),
];

static ORDER_HISTORIES_ASSOCIATIONS: &[Association] = &[];

/// Fields of `order_payments`, from the recorded 8.1.2 responses.
static ORDER_PAYMENTS_FIELDS: &[Field] = &[
    text("order_reference").syn(r#"maxSize="9""#),
    int("id_currency").syn(r#"required="true" format="isUnsignedId""#),
    text("amount").syn(r#"required="true" format="isPrice""#),
    text("payment_method").syn(r#"format="isGenericName""#),
    text("conversion_rate").syn(r#"format="isFloat""#),
    text("transaction_id").syn(r#"maxSize="254""#),
    text("card_number").syn(r#"maxSize="254""#),
    text("card_brand").syn(r#"maxSize="254""#),
    text("card_expiration").syn(r#"maxSize="254""#),
    text("card_holder").syn(r#"maxSize="254""#),
    text("date_add").syn(r#"format="isDate""#),
    int("id_employee").syn(r#"format="isUnsignedId""#),
];

static ORDER_PAYMENTS_ASSOCIATIONS: &[Association] = &[];

/// Fields of `order_slip`, from the recorded 8.1.2 responses.
static ORDER_SLIP_FIELDS: &[Field] = &[
    int("id_customer")
        .link("customers")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("id_order")
        .link("orders")
        .syn(r#"required="true" format="isUnsignedId""#),
    text("conversion_rate").syn(r#"required="true" format="isFloat""#),
    text("total_products_tax_excl").syn(r#"required="true" format="isFloat""#),
    text("total_products_tax_incl").syn(r#"required="true" format="isFloat""#),
    text("total_shipping_tax_excl").syn(r#"required="true" format="isFloat""#),
    text("total_shipping_tax_incl").syn(r#"required="true" format="isFloat""#),
    text("amount").syn(r#"format="isFloat""#),
    text("shipping_cost"),
    text("shipping_cost_amount").syn(r#"format="isFloat""#),
    int("partial"),
    text("date_add").syn(r#"format="isDate""#),
    text("date_upd").syn(r#"format="isDate""#),
    int("order_slip_type").syn(r#"format="isInt""#),
];

static ORDER_SLIP_ORDER_SLIP_DETAILS: &[Field] = &[
    int("id"),
    int("id_order_detail").syn(r#"required="true""#),
    int("product_quantity").syn(r#"required="true""#),
    text("amount_tax_excl").syn(r#"required="true""#),
    text("amount_tax_incl").syn(r#"required="true""#),
];

static ORDER_SLIP_ASSOCIATIONS: &[Association] = &[Association {
    name: "order_slip_details",
    node: "order_slip_detail",
    api: None,
    fields: ORDER_SLIP_ORDER_SLIP_DETAILS,
}];

/// Fields of `order_states`, from the recorded 8.1.2 responses.
static ORDER_STATES_FIELDS: &[Field] = &[
    text("unremovable").syn(r#"format="isBool""#),
    text("delivery").syn(r#"format="isBool""#),
    text("hidden").syn(r#"format="isBool""#),
    text("send_email").syn(r#"format="isBool""#),
    text("module_name").syn(r#"format="isModuleName""#),
    text("invoice").syn(r#"format="isBool""#),
    text("color").syn(r#"format="isColor""#),
    text("logable").syn(r#"format="isBool""#),
    text("shipped").syn(r#"format="isBool""#),
    text("paid").syn(r#"format="isBool""#),
    text("pdf_delivery").syn(r#"format="isBool""#),
    text("pdf_invoice").syn(r#"format="isBool""#),
    text("deleted").syn(r#"format="isBool""#),
    lang("name").syn(r#"required="true" maxSize="64" format="isGenericName""#),
    lang("template").syn(r#"maxSize="64" format="isTplName""#),
];

static ORDER_STATES_ASSOCIATIONS: &[Association] = &[];

/// Fields of `orders`, from the recorded 8.1.2 responses.
static ORDERS_FIELDS: &[Field] = &[
    int("id_address_delivery")
        .link("addresses")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("id_address_invoice")
        .link("addresses")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("id_cart")
        .link("carts")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("id_currency")
        .link("currencies")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("id_lang")
        .link("languages")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("id_customer")
        .link("customers")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("id_carrier")
        .link("carriers")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("current_state")
        .link("order_states")
        .syn(r#"format="isUnsignedId""#),
    text("module").syn(r#"required="true" format="isModuleName""#),
    int("invoice_number"),
    text("invoice_date"),
    int("delivery_number"),
    text("delivery_date"),
    text("valid"),
    text("date_add").syn(r#"format="isDate""#),
    text("date_upd").syn(r#"format="isDate""#),
    text("shipping_number").getter(),
    text("note"),
    int("id_shop_group").syn(r#"format="isUnsignedId""#),
    int("id_shop").syn(r#"format="isUnsignedId""#),
    text("secure_key").syn(r#"format="isMd5""#),
    text("payment").syn(r#"required="true" format="isGenericName""#),
    text("recyclable").syn(r#"format="isBool""#),
    text("gift").syn(r#"format="isBool""#),
    text("gift_message").syn(r#"format="isMessage""#),
    text("mobile_theme").syn(r#"format="isBool""#),
    text("total_discounts").syn(r#"format="isPrice""#),
    text("total_discounts_tax_incl").syn(r#"format="isPrice""#),
    text("total_discounts_tax_excl").syn(r#"format="isPrice""#),
    text("total_paid").syn(r#"required="true" format="isPrice""#),
    text("total_paid_tax_incl").syn(r#"format="isPrice""#),
    text("total_paid_tax_excl").syn(r#"format="isPrice""#),
    text("total_paid_real").syn(r#"required="true" format="isPrice""#),
    text("total_products").syn(r#"required="true" format="isPrice""#),
    text("total_products_wt").syn(r#"required="true" format="isPrice""#),
    text("total_shipping").syn(r#"format="isPrice""#),
    text("total_shipping_tax_incl").syn(r#"format="isPrice""#),
    text("total_shipping_tax_excl").syn(r#"format="isPrice""#),
    text("carrier_tax_rate").syn(r#"format="isFloat""#),
    text("total_wrapping").syn(r#"format="isPrice""#),
    text("total_wrapping_tax_incl").syn(r#"format="isPrice""#),
    text("total_wrapping_tax_excl").syn(r#"format="isPrice""#),
    int("round_mode").syn(r#"format="isUnsignedId""#),
    int("round_type").syn(r#"format="isUnsignedId""#),
    text("conversion_rate").syn(r#"required="true" format="isFloat""#),
    text("reference"),
];

static ORDERS_ORDER_ROWS: &[Field] = &[
    int("id"),
    int("product_id").link("products").syn(r#"required="true""#),
    int("product_attribute_id").syn(r#"required="true""#),
    int("product_quantity").syn(r#"required="true""#),
    text("product_name").syn(r#"read_only="true" readOnly="true""#),
    text("product_reference").syn(r#"read_only="true" readOnly="true""#),
    text("product_ean13").syn(r#"read_only="true" readOnly="true""#),
    text("product_isbn").syn(r#"read_only="true" readOnly="true""#),
    text("product_upc").syn(r#"read_only="true" readOnly="true""#),
    text("product_price").syn(r#"read_only="true" readOnly="true""#),
    int("id_customization").link("customizations"),
    text("unit_price_tax_incl").syn(r#"read_only="true" readOnly="true""#),
    text("unit_price_tax_excl").syn(r#"read_only="true" readOnly="true""#),
];

static ORDERS_ASSOCIATIONS: &[Association] = &[Association {
    name: "order_rows",
    node: "order_row",
    api: None,
    fields: ORDERS_ORDER_ROWS,
}];

/// Fields of `product_option_values`, from the recorded 8.1.2 responses.
static PRODUCT_OPTION_VALUES_FIELDS: &[Field] = &[
    int("id_attribute_group")
        .link("product_options")
        .syn(r#"required="true" format="isUnsignedId""#),
    text("color").syn(r#"format="isColor""#),
    int("position").syn(r#"format="isInt""#),
    lang("name").syn(r#"required="true" maxSize="128" format="isGenericName""#),
];

static PRODUCT_OPTION_VALUES_ASSOCIATIONS: &[Association] = &[];

/// Fields of `product_options`, from the recorded 8.1.2 responses.
static PRODUCT_OPTIONS_FIELDS: &[Field] = &[
    text("is_color_group").syn(r#"format="isBool""#),
    text("group_type").syn(r#"required="true""#),
    int("position").syn(r#"format="isInt""#),
    lang("name").syn(r#"required="true" maxSize="128" format="isGenericName""#),
    lang("public_name").syn(r#"required="true" maxSize="64" format="isGenericName""#),
];

static PRODUCT_OPTIONS_PRODUCT_OPTION_VALUES: &[Field] = &[int("id")];

static PRODUCT_OPTIONS_ASSOCIATIONS: &[Association] = &[Association {
    name: "product_option_values",
    node: "product_option_value",
    api: Some("product_option_values"),
    fields: PRODUCT_OPTIONS_PRODUCT_OPTION_VALUES,
}];

/// Fields of `products`, from the recorded 8.1.2 responses.
static PRODUCTS_FIELDS: &[Field] = &[
    int("id_manufacturer")
        .link("manufacturers")
        .syn(r#"format="isUnsignedId""#),
    int("id_supplier")
        .link("suppliers")
        .syn(r#"format="isUnsignedId""#),
    int("id_category_default")
        .link("categories")
        .syn(r#"format="isUnsignedId""#),
    text("new"),
    int("cache_default_attribute"),
    int("id_default_image").link("images").getter(),
    int("id_default_combination").link("combinations").getter(),
    int("id_tax_rules_group")
        .link("tax_rule_groups")
        .syn(r#"format="isUnsignedId""#),
    int("position_in_category").getter(),
    text("manufacturer_name")
        .syn(r#"read_only="true" readOnly="true""#)
        .getter(),
    int("quantity")
        .syn(r#"read_only="true" readOnly="true""#)
        .getter(),
    text("type").getter(),
    int("id_shop_default").syn(r#"format="isUnsignedId""#),
    text("reference").syn(r#"maxSize="64" format="isReference""#),
    text("supplier_reference").syn(r#"maxSize="64" format="isReference""#),
    text("location").syn(r#"maxSize="255" format="isString""#),
    text("width").syn(r#"format="isUnsignedFloat""#),
    text("height").syn(r#"format="isUnsignedFloat""#),
    text("depth").syn(r#"format="isUnsignedFloat""#),
    text("weight").syn(r#"format="isUnsignedFloat""#),
    text("quantity_discount").syn(r#"format="isBool""#),
    text("ean13").syn(r#"maxSize="13" format="isEan13""#),
    text("isbn").syn(r#"maxSize="32" format="isIsbn""#),
    text("upc").syn(r#"maxSize="12" format="isUpc""#),
    text("mpn").syn(r#"maxSize="40" format="isMpn""#),
    text("cache_is_pack").syn(r#"format="isBool""#),
    text("cache_has_attachments").syn(r#"format="isBool""#),
    text("is_virtual").syn(r#"format="isBool""#),
    int("state").syn(r#"format="isUnsignedId""#),
    int("additional_delivery_times").syn(r#"format="isUnsignedId""#),
    lang("delivery_in_stock").syn(r#"maxSize="255" format="isGenericName""#),
    lang("delivery_out_stock").syn(r#"maxSize="255" format="isGenericName""#),
    text("product_type").syn(r#"format="isGenericName""#),
    text("on_sale").syn(r#"format="isBool""#),
    text("online_only").syn(r#"format="isBool""#),
    text("ecotax").syn(r#"format="isPrice""#),
    int("minimal_quantity").syn(r#"format="isUnsignedInt""#),
    int("low_stock_threshold").syn(r#"format="isInt""#),
    text("low_stock_alert").syn(r#"format="isBool""#),
    text("price").syn(r#"required="true" format="isPrice""#),
    text("wholesale_price").syn(r#"format="isPrice""#),
    text("unity").syn(r#"format="isString""#),
    text("unit_price").syn(r#"format="isPrice""#),
    text("unit_price_ratio"),
    text("additional_shipping_cost").syn(r#"format="isPrice""#),
    int("customizable").syn(r#"format="isUnsignedInt""#),
    int("text_fields").syn(r#"format="isUnsignedInt""#),
    int("uploadable_files").syn(r#"format="isUnsignedInt""#),
    text("active").syn(r#"format="isBool""#),
    text("redirect_type").syn(r#"format="isString""#),
    int("id_type_redirected").syn(r#"format="isUnsignedId""#),
    text("available_for_order").syn(r#"format="isBool""#),
    text("available_date").syn(r#"format="isDateFormat""#),
    text("show_condition").syn(r#"format="isBool""#),
    text("condition").syn(r#"format="isGenericName""#),
    text("show_price").syn(r#"format="isBool""#),
    text("indexed").syn(r#"format="isBool""#),
    text("visibility").syn(r#"format="isProductVisibility""#),
    text("advanced_stock_management").syn(r#"format="isBool""#),
    text("date_add").syn(r#"format="isDate""#),
    text("date_upd").syn(r#"format="isDate""#),
    int("pack_stock_type").syn(r#"format="isUnsignedInt""#),
    lang("meta_description").syn(r#"maxSize="512" format="isGenericName""#),
    lang("meta_keywords").syn(r#"maxSize="255" format="isGenericName""#),
    lang("meta_title").syn(r#"maxSize="255" format="isGenericName""#),
    lang("link_rewrite").syn(r#"maxSize="128" format="isLinkRewrite""#),
    lang("name").syn(r#"maxSize="128" format="isCatalogName""#),
    lang("description").syn(r#"format="isCleanHtml""#),
    lang("description_short").syn(r#"format="isCleanHtml""#),
    lang("available_now").syn(r#"maxSize="255" format="isGenericName""#),
    lang("available_later").syn(r#"maxSize="255" format="IsGenericName""#),
];

static PRODUCTS_CATEGORIES: &[Field] = &[int("id").syn(r#"required="true""#)];

static PRODUCTS_IMAGES: &[Field] = &[int("id")];

static PRODUCTS_COMBINATIONS: &[Field] = &[int("id").syn(r#"required="true""#)];

static PRODUCTS_PRODUCT_OPTION_VALUES: &[Field] = &[int("id").syn(r#"required="true""#)];

static PRODUCTS_PRODUCT_FEATURES: &[Field] = &[
    int("id").syn(r#"required="true""#),
    int("id_feature_value")
        .link("product_feature_values")
        .syn(r#"required="true""#),
];

static PRODUCTS_TAGS: &[Field] = &[int("id").syn(r#"required="true""#)];

static PRODUCTS_STOCK_AVAILABLES: &[Field] = &[
    int("id").syn(r#"required="true""#),
    int("id_product_attribute").syn(r#"required="true""#),
];

static PRODUCTS_ATTACHMENTS: &[Field] = &[int("id").syn(r#"required="true""#)];

static PRODUCTS_ACCESSORIES: &[Field] = &[int("id").link("products").syn(r#"required="true""#)];

static PRODUCTS_PRODUCT_BUNDLE: &[Field] = &[
    int("id").syn(r#"required="true""#),
    int("id_product_attribute"),
    int("quantity"),
];

static PRODUCTS_ASSOCIATIONS: &[Association] = &[
    Association {
        name: "categories",
        node: "category",
        api: Some("categories"),
        fields: PRODUCTS_CATEGORIES,
    },
    Association {
        name: "images",
        node: "image",
        api: Some("images"),
        fields: PRODUCTS_IMAGES,
    },
    Association {
        name: "combinations",
        node: "combination",
        api: Some("combinations"),
        fields: PRODUCTS_COMBINATIONS,
    },
    Association {
        name: "product_option_values",
        node: "product_option_value",
        api: Some("product_option_values"),
        fields: PRODUCTS_PRODUCT_OPTION_VALUES,
    },
    Association {
        name: "product_features",
        node: "product_feature",
        api: Some("product_features"),
        fields: PRODUCTS_PRODUCT_FEATURES,
    },
    Association {
        name: "tags",
        node: "tag",
        api: Some("tags"),
        fields: PRODUCTS_TAGS,
    },
    Association {
        name: "stock_availables",
        node: "stock_available",
        api: Some("stock_availables"),
        fields: PRODUCTS_STOCK_AVAILABLES,
    },
    Association {
        name: "attachments",
        node: "attachment",
        api: Some("attachments"),
        fields: PRODUCTS_ATTACHMENTS,
    },
    Association {
        name: "accessories",
        node: "product",
        api: Some("products"),
        fields: PRODUCTS_ACCESSORIES,
    },
    Association {
        name: "product_bundle",
        node: "product",
        api: Some("products"),
        fields: PRODUCTS_PRODUCT_BUNDLE,
    },
];

/// Fields of `shops`, from the recorded 8.1.2 responses.
static SHOPS_FIELDS: &[Field] = &[
    int("id_shop_group")
        .link("shop_groups")
        .syn(r#"required="true""#),
    int("id_category").syn(r#"required="true""#),
    int("active").syn(r#"format="isBool""#),
    int("deleted").syn(r#"format="isBool""#),
    text("name").syn(r#"required="true" maxSize="64" format="isGenericName""#),
    text("color").syn(r#"format="isColor""#),
    text("theme_name").syn(r#"format="isThemeName""#),
];

static SHOPS_ASSOCIATIONS: &[Association] = &[];

/// Fields of `stock_availables`, from the recorded 8.1.2 responses.
static STOCK_AVAILABLES_FIELDS: &[Field] = &[
    int("id_product")
        .link("products")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("id_product_attribute")
        .link("combinations")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("id_shop").link("shops").syn(r#"format="isUnsignedId""#),
    int("id_shop_group")
        .link("shop_groups")
        .syn(r#"format="isUnsignedId""#),
    int("quantity").syn(r#"required="true" format="isInt""#),
    text("depends_on_stock").syn(r#"required="true" format="isBool""#),
    int("out_of_stock").syn(r#"required="true" format="isInt""#),
    text("location").syn(r#"maxSize="255" format="isString""#),
];

static STOCK_AVAILABLES_ASSOCIATIONS: &[Association] = &[];

/// Fields of `stores`, from the recorded 8.1.2 responses.
static STORES_FIELDS: &[Field] = &[
    int("id_country")
        .link("countries")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("id_state")
        .link("states")
        .syn(r#"format="isNullOrUnsignedId""#),
    lang("hours").syn(r#"maxSize="65000" format="isJson""#),
    text("postcode").syn(r#"maxSize="12""#),
    text("city").syn(r#"required="true" maxSize="64" format="isCityName""#),
    text("latitude").syn(r#"maxSize="13" format="isCoordinate""#),
    text("longitude").syn(r#"maxSize="13" format="isCoordinate""#),
    text("phone").syn(r#"maxSize="16" format="isPhoneNumber""#),
    text("fax").syn(r#"maxSize="16" format="isPhoneNumber""#),
    text("email").syn(r#"maxSize="255" format="isEmail""#),
    text("active").syn(r#"required="true" format="isBool""#),
    text("date_add").syn(r#"format="isDate""#),
    text("date_upd").syn(r#"format="isDate""#),
    lang("name").syn(r#"required="true" maxSize="255" format="isGenericName""#),
    lang("address1").syn(r#"required="true" maxSize="255" format="isAddress""#),
    lang("address2").syn(r#"maxSize="255" format="isAddress""#),
    lang("note").syn(r#"maxSize="65000" format="isCleanHtml""#),
];

static STORES_ASSOCIATIONS: &[Association] = &[];

/// Fields of `tax_rule_groups`, from the recorded 8.1.2 responses.
static TAX_RULE_GROUPS_FIELDS: &[Field] = &[
    text("name").syn(r#"required="true" maxSize="64" format="isGenericName""#),
    text("active").syn(r#"format="isBool""#),
    text("deleted").syn(r#"format="isBool""#),
    text("date_add").syn(r#"format="isDate""#),
    text("date_upd").syn(r#"format="isDate""#),
];

static TAX_RULE_GROUPS_ASSOCIATIONS: &[Association] = &[];

/// Fields of `tax_rules`, from the recorded 8.1.2 responses.
static TAX_RULES_FIELDS: &[Field] = &[
    int("id_tax_rules_group")
        .link("tax_rule_groups")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("id_state")
        .link("states")
        .syn(r#"format="isUnsignedId""#),
    int("id_country")
        .link("countries")
        .syn(r#"required="true" format="isUnsignedId""#),
    text("zipcode_from").syn(r#"format="isPostCode""#),
    text("zipcode_to").syn(r#"format="isPostCode""#),
    int("id_tax").syn(r#"required="true" format="isUnsignedId""#),
    int("behavior").syn(r#"format="isUnsignedInt""#),
    text("description").syn(r#"format="isString""#),
];

static TAX_RULES_ASSOCIATIONS: &[Association] = &[];

/// Fields of `taxes`, from the recorded 8.1.2 responses.
static TAXES_FIELDS: &[Field] = &[
    text("rate").syn(r#"required="true" format="isFloat""#),
    text("active"),
    text("deleted"),
    lang("name").syn(r#"required="true" maxSize="32" format="isGenericName""#),
];

static TAXES_ASSOCIATIONS: &[Association] = &[];

// ---------------------------------------------------------------------------------------
// Resources without recordings: PrestaShop 8.1 ObjectModel definitions. Field order is
// `webserviceParameters['fields']` first, then the remaining `$definition` fields, as
// ObjectModel::getWebserviceParameters merges them. TYPE_INT renders as a JSON number.

/// Fields of `carts` (Cart).
static CARTS_FIELDS: &[Field] = &[
    int("id_address_delivery")
        .link("addresses")
        .syn(r#"format="isUnsignedId""#),
    int("id_address_invoice")
        .link("addresses")
        .syn(r#"format="isUnsignedId""#),
    int("id_currency")
        .link("currencies")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("id_customer")
        .link("customers")
        .syn(r#"format="isUnsignedId""#),
    int("id_guest")
        .link("guests")
        .syn(r#"format="isUnsignedId""#),
    int("id_lang")
        .link("languages")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("id_shop_group").syn(r#"format="isUnsignedId""#),
    int("id_shop").syn(r#"format="isUnsignedId""#),
    int("id_carrier").syn(r#"format="isUnsignedId""#),
    text("recyclable").syn(r#"format="isBool""#),
    text("gift").syn(r#"format="isBool""#),
    text("gift_message").syn(r#"format="isCleanHtml""#),
    text("mobile_theme").syn(r#"format="isBool""#),
    text("delivery_option"),
    text("secure_key").syn(r#"maxSize="32""#),
    text("allow_seperated_package").syn(r#"format="isBool""#),
    text("date_add").syn(r#"format="isDate""#),
    text("date_upd").syn(r#"format="isDate""#),
];
static CARTS_CART_ROWS: &[Field] = &[
    int("id_product").link("products").syn(r#"required="true""#),
    int("id_product_attribute")
        .link("combinations")
        .syn(r#"required="true""#),
    int("id_address_delivery")
        .link("addresses")
        .syn(r#"required="true""#),
    int("id_customization").link("customizations"),
    int("quantity").syn(r#"required="true""#),
];
static CARTS_ASSOCIATIONS: &[Association] = &[Association {
    name: "cart_rows",
    node: "cart_row",
    api: None,
    fields: CARTS_CART_ROWS,
}];

/// Fields of `cart_rules` (CartRule).
static CART_RULES_FIELDS: &[Field] = &[
    int("id_customer")
        .link("customers")
        .syn(r#"format="isUnsignedId""#),
    text("date_from").syn(r#"required="true" format="isDate""#),
    text("date_to").syn(r#"required="true" format="isDate""#),
    text("description").syn(r#"maxSize="65534" format="isCleanHtml""#),
    int("quantity").syn(r#"format="isUnsignedInt""#),
    int("quantity_per_user").syn(r#"format="isUnsignedInt""#),
    int("priority").syn(r#"format="isUnsignedInt""#),
    text("partial_use").syn(r#"format="isBool""#),
    text("code").syn(r#"maxSize="254" format="isCleanHtml""#),
    text("minimum_amount").syn(r#"format="isFloat""#),
    text("minimum_amount_tax").syn(r#"format="isBool""#),
    int("minimum_amount_currency").syn(r#"format="isInt""#),
    text("minimum_amount_shipping").syn(r#"format="isBool""#),
    text("country_restriction").syn(r#"format="isBool""#),
    text("carrier_restriction").syn(r#"format="isBool""#),
    text("group_restriction").syn(r#"format="isBool""#),
    text("cart_rule_restriction").syn(r#"format="isBool""#),
    text("product_restriction").syn(r#"format="isBool""#),
    text("shop_restriction").syn(r#"format="isBool""#),
    text("free_shipping").syn(r#"format="isBool""#),
    text("reduction_percent").syn(r#"format="isPercentage""#),
    text("reduction_amount").syn(r#"format="isFloat""#),
    text("reduction_tax").syn(r#"format="isBool""#),
    int("reduction_currency").syn(r#"format="isUnsignedId""#),
    int("reduction_product").syn(r#"format="isInt""#),
    text("reduction_exclude_special").syn(r#"format="isBool""#),
    int("gift_product").syn(r#"format="isUnsignedId""#),
    int("gift_product_attribute").syn(r#"format="isUnsignedId""#),
    text("highlight").syn(r#"format="isBool""#),
    text("active").syn(r#"format="isBool""#),
    text("date_add").syn(r#"format="isDate""#),
    text("date_upd").syn(r#"format="isDate""#),
    lang("name").syn(r#"required="true" maxSize="254" format="isCleanHtml""#),
];

/// Fields of `groups` (Group).
static GROUPS_FIELDS: &[Field] = &[
    text("reduction").syn(r#"format="isFloat""#),
    int("price_display_method").syn(r#"required="true" format="isPriceDisplayMethod""#),
    text("show_prices").syn(r#"format="isBool""#),
    text("date_add").syn(r#"format="isDate""#),
    text("date_upd").syn(r#"format="isDate""#),
    lang("name").syn(r#"required="true" maxSize="32" format="isGenericName""#),
];

/// Fields of `zones` (Zone).
static ZONES_FIELDS: &[Field] = &[
    text("name").syn(r#"required="true" maxSize="64" format="isGenericName""#),
    text("active").syn(r#"format="isBool""#),
];

/// Fields of `states` (State).
static STATES_FIELDS: &[Field] = &[
    int("id_zone")
        .link("zones")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("id_country")
        .link("countries")
        .syn(r#"required="true" format="isUnsignedId""#),
    text("iso_code").syn(r#"required="true" maxSize="7" format="isStateIsoCode""#),
    text("name").syn(r#"required="true" maxSize="80" format="isGenericName""#),
    text("active").syn(r#"format="isBool""#),
];

/// Fields of `shop_groups` (ShopGroup). Its flags are JSON numbers on a real 8.1.2.
static SHOP_GROUPS_FIELDS: &[Field] = &[
    text("name").syn(r#"required="true" maxSize="64" format="isGenericName""#),
    text("color").syn(r#"format="isColor""#),
    int("share_customer").syn(r#"format="isBool""#),
    int("share_order").syn(r#"format="isBool""#),
    int("share_stock").syn(r#"format="isBool""#),
    int("active").syn(r#"format="isBool""#),
    int("deleted").syn(r#"format="isBool""#),
];

/// Fields of `shop_urls` (ShopUrl).
static SHOP_URLS_FIELDS: &[Field] = &[
    int("id_shop")
        .link("shops")
        .syn(r#"required="true" format="isInt""#),
    text("active").syn(r#"format="isBool""#),
    text("main").syn(r#"format="isBool""#),
    text("domain").syn(r#"required="true" maxSize="255" format="isCleanHtml""#),
    text("domain_ssl").syn(r#"maxSize="255" format="isCleanHtml""#),
    text("physical_uri").syn(r#"maxSize="64""#),
    text("virtual_uri").syn(r#"maxSize="64""#),
];

/// Fields of `order_invoices` (OrderInvoice).
static ORDER_INVOICES_FIELDS: &[Field] = &[
    int("id_order")
        .link("orders")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("number").syn(r#"required="true" format="isUnsignedId""#),
    int("delivery_number").syn(r#"format="isUnsignedId""#),
    text("delivery_date").syn(r#"format="isDateFormat""#),
    text("total_discount_tax_excl").syn(r#"format="isPrice""#),
    text("total_discount_tax_incl").syn(r#"format="isPrice""#),
    text("total_paid_tax_excl").syn(r#"format="isPrice""#),
    text("total_paid_tax_incl").syn(r#"format="isPrice""#),
    text("total_products").syn(r#"format="isPrice""#),
    text("total_products_wt").syn(r#"format="isPrice""#),
    text("total_shipping_tax_excl").syn(r#"format="isPrice""#),
    text("total_shipping_tax_incl").syn(r#"format="isPrice""#),
    int("shipping_tax_computation_method").syn(r#"format="isUnsignedId""#),
    text("total_wrapping_tax_excl").syn(r#"format="isPrice""#),
    text("total_wrapping_tax_incl").syn(r#"format="isPrice""#),
    text("shop_address").syn(r#"maxSize="4194303" format="isCleanHtml""#),
    text("note").syn(r#"maxSize="65000" format="isCleanHtml""#),
    text("date_add").syn(r#"format="isDate""#),
];

/// Fields of `order_cart_rules` (OrderCartRule).
static ORDER_CART_RULES_FIELDS: &[Field] = &[
    int("id_order")
        .link("orders")
        .syn(r#"required="true" format="isUnsignedId""#),
    int("id_cart_rule").syn(r#"required="true" format="isUnsignedId""#),
    int("id_order_invoice").syn(r#"format="isUnsignedId""#),
    text("name").syn(r#"required="true" format="isCleanHtml""#),
    text("value").syn(r#"required="true" format="isFloat""#),
    text("value_tax_excl").syn(r#"required="true" format="isFloat""#),
    text("free_shipping").syn(r#"format="isBool""#),
    text("deleted").syn(r#"format="isBool""#),
];

/// Fields of `manufacturers` (Manufacturer).
static MANUFACTURERS_FIELDS: &[Field] = &[
    text("active").syn(r#"format="isBool""#),
    text("link_rewrite")
        .syn(r#"read_only="true" readOnly="true""#)
        .getter(),
    text("name").syn(r#"required="true" maxSize="64" format="isCatalogName""#),
    text("date_add").syn(r#"format="isDate""#),
    text("date_upd").syn(r#"format="isDate""#),
    lang("description").syn(r#"format="isCleanHtml""#),
    lang("short_description").syn(r#"format="isCleanHtml""#),
    lang("meta_title").syn(r#"maxSize="255" format="isGenericName""#),
    lang("meta_description").syn(r#"maxSize="512" format="isGenericName""#),
    lang("meta_keywords").syn(r#"maxSize="255" format="isGenericName""#),
];
static MANUFACTURERS_ADDRESSES: &[Field] = &[int("id").link("addresses")];
static MANUFACTURERS_ASSOCIATIONS: &[Association] = &[Association {
    name: "addresses",
    node: "address",
    api: Some("addresses"),
    fields: MANUFACTURERS_ADDRESSES,
}];

/// Fields of `suppliers` (Supplier).
static SUPPLIERS_FIELDS: &[Field] = &[
    text("link_rewrite")
        .syn(r#"read_only="true" readOnly="true""#)
        .getter(),
    text("name").syn(r#"required="true" maxSize="64" format="isCatalogName""#),
    text("active").syn(r#"format="isBool""#),
    text("date_add").syn(r#"format="isDate""#),
    text("date_upd").syn(r#"format="isDate""#),
    lang("description").syn(r#"format="isCleanHtml""#),
    lang("meta_title").syn(r#"maxSize="255" format="isGenericName""#),
    lang("meta_description").syn(r#"maxSize="512" format="isGenericName""#),
    lang("meta_keywords").syn(r#"maxSize="255" format="isGenericName""#),
];

/// Fields of `tags` (Tag).
static TAGS_FIELDS: &[Field] = &[
    int("id_lang")
        .link("languages")
        .syn(r#"required="true" format="isUnsignedId""#),
    text("name").syn(r#"required="true" maxSize="32" format="isGenericName""#),
];

/// Fields of `guests` (Guest).
static GUESTS_FIELDS: &[Field] = &[
    int("id_customer")
        .link("customers")
        .syn(r#"format="isUnsignedId""#),
    int("id_operating_system").syn(r#"format="isUnsignedId""#),
    int("id_web_browser").syn(r#"format="isUnsignedId""#),
    text("javascript").syn(r#"format="isBool""#),
    int("screen_resolution_x").syn(r#"format="isInt""#),
    int("screen_resolution_y").syn(r#"format="isInt""#),
    int("screen_color").syn(r#"format="isInt""#),
    text("sun_java").syn(r#"format="isBool""#),
    text("adobe_flash").syn(r#"format="isBool""#),
    text("adobe_director").syn(r#"format="isBool""#),
    text("apple_quicktime").syn(r#"format="isBool""#),
    text("real_player").syn(r#"format="isBool""#),
    text("windows_media").syn(r#"format="isBool""#),
    text("accept_language").syn(r#"maxSize="8" format="isGenericName""#),
    text("mobile_theme").syn(r#"format="isBool""#),
];

/// Fields of `product_features` (Feature).
static PRODUCT_FEATURES_FIELDS: &[Field] = &[
    int("position").syn(r#"format="isInt""#),
    lang("name").syn(r#"required="true" maxSize="128" format="isGenericName""#),
];

/// Fields of `product_feature_values` (FeatureValue).
static PRODUCT_FEATURE_VALUES_FIELDS: &[Field] = &[
    int("id_feature")
        .link("product_features")
        .syn(r#"required="true" format="isUnsignedId""#),
    text("custom").syn(r#"format="isBool""#),
    lang("value").syn(r#"required="true" maxSize="255" format="isGenericName""#),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_listing_has_69_resources_in_order() {
        assert_eq!(RESOURCES.len(), 69);
        assert!(RESOURCES.windows(2).all(|w| w[0].name < w[1].name));
        assert_eq!(resources_for(Version::V8_1_2).count(), 69);
        assert_eq!(resources_for(Version::V1_7_8).count(), 69);
    }

    #[test]
    fn version_9_drops_advanced_stock_and_adds_order_returns() {
        let names: Vec<_> = resources_for(Version::V9_0).map(|r| r.name).collect();
        assert_eq!(names.len(), 64);
        assert!(names.windows(2).all(|w| w[0] < w[1]));
        assert!(names.contains(&"order_returns"));
        assert!(!names.contains(&"supply_orders"));
        assert!(resource_for(Version::V8_1_2, "order_returns").is_none());
        assert!(resource_for(Version::V9_0, "warehouse_product_locations").is_none());
    }

    #[test]
    fn orders_table_matches_the_recording() {
        let orders = resource("orders").unwrap();
        assert_eq!(orders.singular, "order");
        assert_eq!(orders.fields.len(), 46);
        let state = &orders.fields[orders.field_index("current_state").unwrap()];
        assert_eq!((state.kind, state.xlink), (Kind::Int, Some("order_states")));
        assert!(orders.fields[orders.field_index("shipping_number").unwrap()].not_filterable);
        let rows = &orders.associations[0];
        assert_eq!(
            (rows.name, rows.node, rows.api),
            ("order_rows", "order_row", None)
        );
        assert!(orders.is_date_field("date_upd"));
    }

    #[test]
    fn list_nodes_follow_objects_node_name() {
        assert_eq!(list_node(resource("order_slip").unwrap()), "order_slips");
        assert_eq!(list_node(resource("orders").unwrap()), "orders");
    }

    #[test]
    fn no_field_is_declared_twice() {
        for r in resources_for(Version::V8_1_2) {
            for a in r.associations {
                for (i, f) in a.fields.iter().enumerate() {
                    let first = a.fields.iter().position(|g| g.name == f.name);
                    assert_eq!(first, Some(i), "{}.{}.{}", r.name, a.name, f.name);
                }
            }
        }
        for r in resources_for(Version::V8_1_2).chain([&ORDER_RETURNS]) {
            for (i, f) in r.fields.iter().enumerate() {
                assert!(f.name != "id", "{}: id is implicit", r.name);
                assert_eq!(r.field_index(f.name), Some(i), "{}.{}", r.name, f.name);
            }
        }
    }
}
