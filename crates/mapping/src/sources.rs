//! Which PrestaShop resources make each data type: the one place that knows it. The sync
//! reads a data type's [`Sources::resources`], stores each resource's rows under the parent
//! key of [`parent_field`], maps a page of the data type's primary records with the rows
//! its [`Link`]s find, and maps a primary record again when a linked row that
//! [`Link::remaps`] changed.

use prestalink_commerce::DataType;

/// How a data type's records are put together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Mapped whole from the reference data: small data types (company, locations, tax
    /// components, categories).
    Whole,
    /// Mapped page by page from each primary resource, each page with its linked rows.
    Paged(&'static [Primary]),
    /// Payment methods: a census of every order and payment.
    Census,
}

/// A resource whose records are mapped one by one into the data type's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Primary {
    /// The PrestaShop resource.
    pub resource: &'static str,
    /// The rows a page of its records needs, besides the reference data.
    pub links: &'static [Link],
}

/// Rows of another resource that records of a primary resource need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// The linked resource.
    pub resource: &'static str,
    /// How its rows are found from the primary records.
    pub by: By,
    /// Whether a change of a linked row maps its primary records again (a new order
    /// detail changes its order; a changed delivery address does not).
    pub remaps: bool,
}

/// How linked rows are found from the primary records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// Rows whose parent key (see [`parent_field`]) is the primary record's field: `id`
    /// for rows that belong to a record (an order's details by `id_order`), another field
    /// for rows that share it (an order's payments by its `reference`).
    ParentKey(&'static str),
    /// Rows whose id is in one of the primary record's fields (an order's addresses).
    Id(&'static [&'static str]),
}

/// The resources a data type is made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sources {
    /// How its records are put together (and from which primary resources).
    pub shape: Shape,
    /// For a census or a whole mapping, the resources it counts or maps; for a paged one,
    /// none (its primaries and links name them).
    pub mapped: &'static [&'static str],
    /// The reference resources its mapping looks up.
    pub lookups: &'static [&'static str],
}

impl Sources {
    /// Every resource the data type is read from: the main resource first, then the rows
    /// linked to it, then the reference resources its mapping looks up.
    pub fn resources(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        let mut add = |r: &'static str| {
            if !out.contains(&r) {
                out.push(r);
            }
        };
        if let Shape::Paged(primaries) = self.shape {
            for p in primaries {
                add(p.resource);
            }
            for p in primaries {
                for link in p.links {
                    add(link.resource);
                }
            }
        }
        for &r in self.mapped.iter().chain(self.lookups) {
            add(r);
        }
        out
    }

    /// The primary resource `resource` of a data type mapped page by page.
    pub fn primary(&self, resource: &str) -> Option<&'static Primary> {
        match self.shape {
            Shape::Paged(primaries) => primaries.iter().find(|p| p.resource == resource),
            _ => None,
        }
    }

    /// Whether the data type is read from `resource`.
    pub fn reads(&self, resource: &str) -> bool {
        self.resources().contains(&resource)
    }
}

/// The field of a resource's rows that ties each to the row it belongs to (`id_order` of an
/// order detail, `order_reference` of a payment, `reference` of an order), stored as the
/// raw row's parent key so that a page of records finds its rows without reading every row.
pub const fn parent_field(resource: &str) -> Option<&'static str> {
    // A loop rather than `iter().find`, so that the sync's resource catalogue (a static)
    // is built with it.
    let mut i = 0;
    while i < PARENT_FIELDS.len() {
        if same(PARENT_FIELDS[i].0, resource) {
            return Some(PARENT_FIELDS[i].1);
        }
        i += 1;
    }
    None
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const PARENT_FIELDS: &[(&str, &str)] = &[
    ("combinations", "id_product"),
    ("stock_availables", "id_product"),
    ("addresses", "id_customer"),
    ("orders", "reference"),
    ("order_slip", "id_order"),
    ("order_histories", "id_order"),
    ("order_carriers", "id_order"),
    ("order_payments", "order_reference"),
    ("order_details", "id_order"),
    ("order_cart_rules", "id_order"),
];

const fn child(resource: &'static str) -> Link {
    Link {
        resource,
        by: By::ParentKey("id"),
        remaps: true,
    }
}

const ORDER: Primary = Primary {
    resource: "orders",
    links: &[
        child("order_details"),
        Link {
            resource: "order_payments",
            by: By::ParentKey("reference"),
            remaps: true,
        },
        child("order_slip"),
        child("order_carriers"),
        child("order_cart_rules"),
        child("order_histories"),
        Link {
            resource: "addresses",
            by: By::Id(&["id_address_delivery", "id_address_invoice"]),
            remaps: false,
        },
        // Orders show their customer's name: a renamed or deleted customer changes them.
        Link {
            resource: "customers",
            by: By::Id(&["id_customer"]),
            remaps: true,
        },
    ],
};

/// Payments belong to orders by reference: an order's new state changes its payments.
const PAYMENT: Primary = Primary {
    resource: "order_payments",
    links: &[Link {
        resource: "orders",
        by: By::ParentKey("order_reference"),
        remaps: true,
    }],
};

const REFUND: Primary = Primary {
    resource: "order_slip",
    links: &[Link {
        resource: "orders",
        by: By::Id(&["id_order"]),
        remaps: false,
    }],
};

/// The resources `data_type` is made from.
pub fn sources(data_type: DataType) -> &'static Sources {
    const fn whole(mapped: &'static [&'static str], lookups: &'static [&'static str]) -> Sources {
        Sources {
            shape: Shape::Whole,
            mapped,
            lookups,
        }
    }
    const fn paged(primaries: &'static [Primary], lookups: &'static [&'static str]) -> Sources {
        Sources {
            shape: Shape::Paged(primaries),
            mapped: &[],
            lookups,
        }
    }
    static COMPANY: Sources = whole(
        &["configurations", "shops", "shop_urls"],
        &["currencies", "countries", "states", "languages"],
    );
    static CUSTOMERS: Sources = paged(
        &[Primary {
            resource: "customers",
            links: &[child("addresses")],
        }],
        &[
            "countries",
            "states",
            "configurations",
            "currencies",
            "shops",
            "languages",
        ],
    );
    static ORDERS: Sources = paged(
        &[ORDER],
        &[
            "order_states",
            "currencies",
            "countries",
            "states",
            "carriers",
            "taxes",
            "tax_rules",
            "tax_rule_groups",
            "configurations",
            "shops",
            "languages",
            "products",
            "combinations",
        ],
    );
    static PAYMENTS: Sources = paged(
        &[PAYMENT],
        &["order_states", "currencies", "configurations", "shops"],
    );
    static PAYMENT_METHODS: Sources = Sources {
        shape: Shape::Census,
        mapped: &["orders", "order_payments"],
        lookups: &["configurations"],
    };
    static PRODUCTS: Sources = paged(
        &[Primary {
            resource: "products",
            links: &[child("combinations"), child("stock_availables")],
        }],
        &[
            "product_option_values",
            "product_options",
            "categories",
            "taxes",
            "tax_rules",
            "tax_rule_groups",
            "currencies",
            "configurations",
            "shops",
            "languages",
        ],
    );
    static CATEGORIES: Sources = whole(&["categories"], &["configurations", "languages"]);
    static TAX_COMPONENTS: Sources = whole(
        &["taxes", "tax_rules", "tax_rule_groups"],
        &["configurations", "languages"],
    );
    static TRANSACTIONS: Sources = paged(&[PAYMENT, REFUND], &["currencies", "configurations"]);
    static LOCATIONS: Sources = whole(
        &["shops", "shop_urls", "stores"],
        &["configurations", "countries", "states", "languages"],
    );
    static DISPUTES: Sources = whole(&[], &[]);
    match data_type {
        DataType::CompanyInfo => &COMPANY,
        DataType::Customers => &CUSTOMERS,
        DataType::Orders => &ORDERS,
        DataType::Payments => &PAYMENTS,
        DataType::PaymentMethods => &PAYMENT_METHODS,
        DataType::Products => &PRODUCTS,
        DataType::ProductCategories => &CATEGORIES,
        DataType::TaxComponents => &TAX_COMPONENTS,
        DataType::Transactions => &TRANSACTIONS,
        DataType::Locations => &LOCATIONS,
        DataType::Disputes => &DISPUTES,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The lists each data type was read from before they were put together here.
    #[test]
    fn each_data_type_reads_the_resources_it_always_read() {
        let before: &[(DataType, &[&str])] = &[
            (
                DataType::CompanyInfo,
                &[
                    "configurations",
                    "shops",
                    "shop_urls",
                    "currencies",
                    "countries",
                    "states",
                    "languages",
                ],
            ),
            (
                DataType::Customers,
                &[
                    "customers",
                    "addresses",
                    "countries",
                    "states",
                    "configurations",
                    "currencies",
                    "shops",
                    "languages",
                ],
            ),
            (
                DataType::Orders,
                &[
                    "orders",
                    "order_details",
                    "order_payments",
                    "order_slip",
                    "order_carriers",
                    "order_cart_rules",
                    "order_histories",
                    "order_states",
                    "currencies",
                    "addresses",
                    "countries",
                    "states",
                    "carriers",
                    "taxes",
                    "tax_rules",
                    "tax_rule_groups",
                    "configurations",
                    "shops",
                    "languages",
                    "customers",
                    "products",
                    "combinations",
                ],
            ),
            (
                DataType::Payments,
                &[
                    "order_payments",
                    "orders",
                    "order_states",
                    "currencies",
                    "configurations",
                    "shops",
                ],
            ),
            (
                DataType::PaymentMethods,
                &["orders", "order_payments", "configurations"],
            ),
            (
                DataType::Products,
                &[
                    "products",
                    "combinations",
                    "product_option_values",
                    "product_options",
                    "categories",
                    "stock_availables",
                    "taxes",
                    "tax_rules",
                    "tax_rule_groups",
                    "currencies",
                    "configurations",
                    "shops",
                    "languages",
                ],
            ),
            (
                DataType::ProductCategories,
                &["categories", "configurations", "languages"],
            ),
            (
                DataType::TaxComponents,
                &[
                    "taxes",
                    "tax_rules",
                    "tax_rule_groups",
                    "configurations",
                    "languages",
                ],
            ),
            (
                DataType::Transactions,
                &[
                    "order_payments",
                    "order_slip",
                    "orders",
                    "currencies",
                    "configurations",
                ],
            ),
            (
                DataType::Locations,
                &[
                    "shops",
                    "shop_urls",
                    "stores",
                    "configurations",
                    "countries",
                    "states",
                    "languages",
                ],
            ),
            (DataType::Disputes, &[]),
        ];
        assert_eq!(before.len(), DataType::ALL.len());
        for (dt, resources) in before {
            let now = sources(*dt).resources();
            assert_eq!(now.first(), resources.first(), "{dt}: main resource");
            assert_eq!(
                now.iter().collect::<BTreeSet<_>>(),
                resources.iter().collect::<BTreeSet<_>>(),
                "{dt}"
            );
            assert_eq!(now.len(), resources.len(), "{dt}: listed once each");
        }
    }

    /// Links by parent key need the linked resource's parent key, and a link by another
    /// field than the id needs the primary's own parent key to be that field (a changed
    /// linked row finds its primaries by it).
    #[test]
    fn links_by_parent_key_match_the_parent_fields() {
        for dt in DataType::ALL {
            let Shape::Paged(primaries) = sources(dt).shape else {
                continue;
            };
            for p in primaries {
                for link in p.links {
                    if let By::ParentKey(field) = link.by {
                        let parent = parent_field(link.resource);
                        assert!(
                            parent.is_some(),
                            "{dt}: {} has no parent key",
                            link.resource
                        );
                        if field != "id" {
                            assert_eq!(parent_field(p.resource), Some(field), "{dt}");
                        }
                    }
                }
            }
        }
    }
}
