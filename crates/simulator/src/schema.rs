//! Resource schemas: the fields, JSON types, XML attributes and associations of every
//! Webservice resource, as a real PrestaShop 8.1.2 renders them. The renderers, the query
//! engine and the generator are all driven by these tables, so a resource behaves the same
//! way everywhere once it is described here.

/// How a field's value is typed, which decides its JSON type and how filters compare it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Rendered as a JSON number (PrestaShop casts these, e.g. `id_*`, `current_state`).
    Int,
    /// Rendered as a JSON string (money, flags, dates, free text: raw DB strings).
    Str,
    /// A multilingual field: `<language id>` nodes in XML; a plain string with one language
    /// (or one requested), `[{"id":1,"value":…}]` with several, in JSON.
    Lang,
}

/// One field of a resource or of an association entry.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    /// Resource an id field links to (`xlink:href` in XML); `None` for plain values.
    pub xlink: Option<&'static str>,
    /// Attributes shown by `schema=synopsis`, verbatim (e.g. `required="true" format="isUnsignedId"`).
    pub synopsis: &'static str,
    /// Getter fields (e.g. `orders.shipping_number`): rendered with `notFilterable="true"`,
    /// and filtering on them answers code 34.
    pub not_filterable: bool,
}

/// An association (`<associations>` child), e.g. `order_rows` of orders or `categories` of products.
#[derive(Debug, Clone, Copy)]
pub struct Association {
    /// Element / key name, e.g. `order_rows`.
    pub name: &'static str,
    /// Entry element name in XML, e.g. `order_row`.
    pub node: &'static str,
    /// `Some("categories")` renders `api="categories"` and an xlink per entry;
    /// `None` renders `virtualEntity="true"`.
    pub api: Option<&'static str>,
    /// Fields of one entry, `id` first when the entry has one.
    pub fields: &'static [Field],
}

/// One Webservice resource.
#[derive(Debug, Clone, Copy)]
pub struct Resource {
    /// Plural name used in URLs, e.g. `orders`.
    pub name: &'static str,
    /// Element / key name of one record, e.g. `order`.
    pub singular: &'static str,
    /// Description shown in the root listing.
    pub description: &'static str,
    /// Whether the root listing shows `<schema>` children (not for images, search, …).
    pub has_schema: bool,
    /// Fields after `id`, in PrestaShop's rendering order.
    pub fields: &'static [Field],
    pub associations: &'static [Association],
}

impl Resource {
    /// Position of a field in `fields` (and so in a row's values).
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// Position of an association in `associations`.
    pub fn association_index(&self, name: &str) -> Option<usize> {
        self.associations.iter().position(|a| a.name == name)
    }

    /// True when the resource has `date_add` or `date_upd` (which need `date=1` to filter or sort).
    pub fn is_date_field(&self, name: &str) -> bool {
        matches!(name, "date_add" | "date_upd") && self.field_index(name).is_some()
    }
}
