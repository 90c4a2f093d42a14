//! [`ReferenceData`]: the lookups mapping needs (languages, currencies, countries, states,
//! order states, taxes and rules, carriers, categories, option values, stock, addresses,
//! shops, configuration), built once per connection from the reference resources' records.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use prestalink_commerce::{Amount, Timestamp};
use prestalink_webservice::configuration::{pick, Scope};
use prestalink_webservice::record::{FieldValue, Record};
use serde_json::{Map, Value};

use crate::error::MappingError;
use crate::fields::Fields;
use crate::iso;
use crate::options::MapOptions;
use crate::records::RecordSet;
use crate::time::ShopClock;

/// An installed language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Language {
    /// Language id.
    pub id: u32,
    /// ISO 639-1 code (`en`), or the id as text when unknown.
    pub iso_code: String,
}

/// A currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyInfo {
    /// ISO 4217 code, `None` when the store's code is not one (a custom currency).
    pub code: Option<&'static str>,
    /// The code as the store has it.
    pub raw_code: String,
    /// Decimal places PrestaShop rounds to.
    pub precision: u32,
}

/// A country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryInfo {
    /// ISO 3166 alpha-3 code, `None` when the alpha-2 code is not a known country.
    pub alpha3: Option<&'static str>,
    /// The alpha-2 code as the store has it.
    pub alpha2: String,
}

/// An order state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderStateInfo {
    /// Name in the reading language.
    pub name: String,
    /// Mail template (stable across languages).
    pub template: String,
    /// `paid` flag.
    pub paid: bool,
    /// `shipped` flag.
    pub shipped: bool,
    /// Module that created the state.
    pub module_name: String,
}

/// A tax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxInfo {
    /// Name in the reading language.
    pub name: String,
    /// Rate in percent (20.000).
    pub rate: Amount,
}

/// One tax rule of a tax rules group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxRuleInfo {
    /// Country the rule applies to (0 = all).
    pub country: u64,
    /// State the rule applies to (0 = all).
    pub state: u64,
    /// Tax applied.
    pub tax: u64,
    /// 0 this tax only, 1 combined, 2 one after another (compound).
    pub behavior: u8,
}

/// A carrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarrierInfo {
    /// Name.
    pub name: String,
    /// Tax rules group applied to shipping (0 = none).
    pub tax_rules_group: u64,
}

/// A category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryInfo {
    /// Parent id (0 for the root).
    pub parent: u64,
    /// Name in the reading language.
    pub name: String,
}

/// An option value (`XL`) and its option group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionValueInfo {
    /// Option group id.
    pub group: u64,
    /// Name in the reading language.
    pub name: String,
}

/// Stock of a product or combination in one shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockInfo {
    /// Shop id (0 when shared by a shop group).
    pub shop: u64,
    /// Quantity.
    pub quantity: Amount,
}

/// A configuration value with its scope.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ConfigValue {
    value: String,
    shop: u64,
    shop_group: u64,
    /// `date_upd` as the store wrote it (shop-local).
    updated: String,
}

/// The lookups built from the reference resources alone (languages, currencies, places,
/// order states, taxes, carriers, categories, options, shops, configuration): the same for
/// every page of a run, shared by the pages' [`ReferenceData`] behind an `Arc` (which
/// dereferences to it, so `refs.taxes` reads them).
#[derive(Debug, Clone, Default)]
pub struct SharedReference {
    /// The shop's clock (PS_TIMEZONE).
    pub clock: ShopClock,
    /// The reading language id.
    pub reading_language: u32,
    /// Installed languages.
    pub languages: Vec<Language>,
    /// Currencies by id.
    pub currencies: HashMap<u64, CurrencyInfo>,
    /// Countries by id.
    pub countries: HashMap<u64, CountryInfo>,
    /// State names by id.
    pub states: HashMap<u64, String>,
    /// Order states by id.
    pub order_states: HashMap<u64, OrderStateInfo>,
    /// Taxes by id.
    pub taxes: HashMap<u64, TaxInfo>,
    /// Tax rules by tax rules group id.
    pub tax_rules: HashMap<u64, Vec<TaxRuleInfo>>,
    /// Tax rules group names by id.
    pub tax_rule_groups: HashMap<u64, String>,
    /// When each tax rules group last changed (its `date_upd`).
    pub tax_rule_group_updated: HashMap<u64, Option<Timestamp>>,
    /// Carriers by id.
    pub carriers: HashMap<u64, CarrierInfo>,
    /// Categories by id.
    pub categories: HashMap<u64, CategoryInfo>,
    /// Number of child categories by category id.
    pub category_children: HashMap<u64, usize>,
    /// Option values by id.
    pub option_values: HashMap<u64, OptionValueInfo>,
    /// Option group public names by id.
    pub option_groups: HashMap<u64, String>,
    /// Shop names by id.
    pub shops: HashMap<u64, String>,
    /// Shop group of each shop.
    pub shop_groups: HashMap<u64, u64>,
    /// Shop URLs (domain + physical URI) by shop id, main URL first.
    pub shop_urls: HashMap<u64, Vec<String>>,
    configurations: HashMap<String, Vec<ConfigValue>>,
}

/// Lookups built from the reference resources of one connection, and from the rows of the
/// records being mapped (addresses, stock, combinations, customer names, known ids).
/// [`ReferenceData::build`] builds everything from one record set;
/// [`ReferenceData::for_page`] reuses the shared part of an earlier build for a page of
/// records.
#[derive(Debug, Clone, Default)]
pub struct ReferenceData {
    shared: Arc<SharedReference>,
    /// Stock by (product id, combination id or 0).
    pub stock: HashMap<(u64, u64), Vec<StockInfo>>,
    /// Combinations by product id, in id order.
    pub combinations: HashMap<u64, Vec<Record>>,
    /// Addresses by id (deleted ones included: orders keep pointing at them).
    pub addresses: HashMap<u64, Record>,
    /// Address ids by customer id (not deleted ones), in id order.
    pub customer_addresses: HashMap<u64, Vec<u64>>,
    /// Customer names ("firstname lastname") by id, for order customerRefs.
    pub customer_names: HashMap<u64, String>,
    /// Ids of resources read in full, to tell a deleted source row from an unread one.
    pub known_ids: HashMap<&'static str, HashSet<u64>>,
}

impl std::ops::Deref for ReferenceData {
    type Target = SharedReference;

    fn deref(&self) -> &SharedReference {
        &self.shared
    }
}

/// Resources whose ids are collected so references into them can be checked.
const CHECKED_RESOURCES: [&str; 5] = ["customers", "products", "combinations", "orders", "taxes"];

impl ReferenceData {
    /// Builds the lookups from the records read. Resources not read stay empty: mapping then
    /// leaves what depends on them empty, never fails for it.
    pub fn build(records: &RecordSet, options: &MapOptions) -> Result<Self, MappingError> {
        let shared = SharedReference::build(records, options)?;
        let mut data = ReferenceData {
            shared: Arc::new(shared),
            ..ReferenceData::default()
        };
        data.read_rows(records);
        Ok(data)
    }

    /// The lookups of a page of records: `base`'s shared lookups (built once, not copied)
    /// and its row lookups, with the page's rows added. The same lookups as building from
    /// `base`'s records and `page` together when the page holds no reference resource
    /// (a sync's page of orders, customers or products with their rows).
    pub fn for_page(base: &ReferenceData, page: &RecordSet) -> ReferenceData {
        let mut data = base.clone();
        data.read_rows(page);
        data
    }

    /// The shared part, to hand to other pages or tasks.
    pub fn shared(&self) -> &Arc<SharedReference> {
        &self.shared
    }

    /// Whether a resource's ids were read, and the id is not among them (a deleted row).
    pub fn is_missing(&self, resource: &str, id: u64) -> bool {
        self.known_ids
            .get(resource)
            .is_some_and(|ids| !ids.contains(&id))
    }

    /// The lookups built from rows rather than reference resources.
    fn read_rows(&mut self, records: &RecordSet) {
        self.read_addresses(records);
        self.read_stock(records);
        for r in records.records("customers") {
            let f = Fields::new(r, "customers");
            let name = [f.text("firstname"), f.text("lastname")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            if let (Some(id), false) = (r.id(), name.is_empty()) {
                self.customer_names.insert(id, name);
            }
        }
        for resource in CHECKED_RESOURCES {
            if records.has(resource) {
                self.known_ids
                    .entry(resource)
                    .or_default()
                    .extend(records.records(resource).iter().filter_map(Record::id));
            }
        }
    }

    fn read_addresses(&mut self, records: &RecordSet) {
        let mut addresses: Vec<&Record> = records.records("addresses").iter().collect();
        addresses.sort_by_key(|r| r.id());
        for r in addresses {
            let Some(id) = r.id() else { continue };
            let f = Fields::new(r, "addresses");
            if let Some(customer) = f.id_ref("id_customer") {
                if !f.flag("deleted") {
                    self.customer_addresses
                        .entry(customer)
                        .or_default()
                        .push(id);
                }
            }
            self.addresses.insert(id, r.clone());
        }
    }

    fn read_stock(&mut self, records: &RecordSet) {
        for r in records.records("stock_availables") {
            let f = Fields::new(r, "stock_availables");
            let Some(product) = f.id_ref("id_product") else {
                continue;
            };
            let attribute = f.id_ref("id_product_attribute").unwrap_or(0);
            self.stock
                .entry((product, attribute))
                .or_default()
                .push(StockInfo {
                    shop: f.id_ref("id_shop").unwrap_or(0),
                    quantity: f.amount("quantity").unwrap_or_default(),
                });
        }
        let mut combinations: Vec<&Record> = records.records("combinations").iter().collect();
        combinations.sort_by_key(|r| r.id());
        for r in combinations {
            if let Some(product) = Fields::new(r, "combinations").id_ref("id_product") {
                self.combinations
                    .entry(product)
                    .or_default()
                    .push(r.clone());
            }
        }
    }
}

impl SharedReference {
    /// Builds the lookups of the reference resources in `records`.
    pub fn build(records: &RecordSet, options: &MapOptions) -> Result<Self, MappingError> {
        let mut data = SharedReference::default();
        data.read_configurations(records.records("configurations"));
        data.read_shops(records);
        let zone = options
            .timezone
            .clone()
            .or_else(|| data.config("PS_TIMEZONE", options.shop).map(str::to_string));
        if let Some(zone) = zone {
            data.clock = ShopClock::new(&zone)?;
        }
        data.read_languages(records.records("languages"));
        data.reading_language = options
            .language
            .or_else(|| data.config("PS_LANG_DEFAULT", options.shop)?.parse().ok())
            .or_else(|| data.languages.first().map(|l| l.id))
            .unwrap_or(1);
        data.read_currencies(records.records("currencies"));
        data.read_places(records);
        data.read_orders_refs(records);
        data.read_taxes(records);
        data.read_catalog(records);
        Ok(data)
    }

    /// A configuration value for a shop: the shop's own, else its group's, else the global
    /// one (else any). `None` when absent or empty.
    pub fn config(&self, name: &str, shop: Option<u64>) -> Option<&str> {
        let pick = self.config_entry(name, shop)?;
        Some(pick.value.as_str()).filter(|v| !v.is_empty())
    }

    /// When any of the named configuration values (as seen by a shop) last changed: the
    /// source modification date of records built from configuration.
    pub fn config_updated(&self, names: &[&str], shop: Option<u64>) -> Option<Timestamp> {
        names
            .iter()
            .filter_map(|n| self.config_entry(n, shop))
            .filter_map(|v| self.clock.local(&v.updated).ok().flatten())
            .max()
    }

    /// The value of a setting a shop sees (PrestaShop's scope rule, shared with the sync's
    /// shop clock and the diagnosis: [`prestalink_webservice::configuration::pick`]).
    fn config_entry(&self, name: &str, shop: Option<u64>) -> Option<&ConfigValue> {
        let values = self.configurations.get(name)?;
        let shop = shop.unwrap_or(0);
        let group = self.shop_groups.get(&shop).copied().unwrap_or(0);
        let scope = |v: &ConfigValue| Scope {
            shop: v.shop,
            shop_group: v.shop_group,
        };
        pick(values, scope, Some(shop), Some(group))
    }

    /// The text of a field in the reading language; `None` when blank.
    pub fn localized<'r>(&self, record: &'r Record, field: &str) -> Option<&'r str> {
        record
            .fields
            .get(field)
            .map(|v| v.text_in(self.reading_language).trim())
            .filter(|s| !s.is_empty())
    }

    /// The other languages' values of multilingual fields, as
    /// `{"fr": {"name": "…"}, …}`; `None` when the record has no other language.
    pub fn translations(&self, record: &Record, fields: &[&str]) -> Option<Value> {
        let mut by_language: Map<String, Value> = Map::new();
        for field in fields {
            let Some(FieldValue::Lang(values)) = record.fields.get(*field) else {
                continue;
            };
            let others = values
                .iter()
                .filter(|v| v.language_id != self.reading_language && !v.value.trim().is_empty());
            for v in others {
                let entry = by_language
                    .entry(self.language_code(v.language_id))
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(m) = entry {
                    m.insert((*field).to_string(), Value::String(v.value.clone()));
                }
            }
        }
        (!by_language.is_empty()).then_some(Value::Object(by_language))
    }

    /// ISO code of a language id (the id as text when the language is unknown).
    pub fn language_code(&self, id: u32) -> String {
        self.languages
            .iter()
            .find(|l| l.id == id)
            .map_or_else(|| id.to_string(), |l| l.iso_code.clone())
    }

    /// ISO 4217 code of a currency id.
    pub fn currency_code(&self, id: Option<u64>) -> Option<String> {
        self.currencies.get(&id?)?.code.map(str::to_string)
    }

    /// The shop's default currency (PS_CURRENCY_DEFAULT) as an ISO 4217 code.
    pub fn default_currency(&self, shop: Option<u64>) -> Option<String> {
        let id = self.config("PS_CURRENCY_DEFAULT", shop)?.parse().ok();
        self.currency_code(id)
    }

    /// ISO 3166 alpha-3 code of a country id.
    pub fn country_alpha3(&self, id: Option<u64>) -> Option<String> {
        self.countries.get(&id?)?.alpha3.map(str::to_string)
    }

    /// Tax rules of a group that apply to a country and state, most specific first.
    pub fn applicable_taxes(&self, group: u64, country: u64, state: u64) -> Vec<&TaxRuleInfo> {
        let Some(rules) = self.tax_rules.get(&group) else {
            return Vec::new();
        };
        let matching = |r: &&TaxRuleInfo| {
            (r.country == 0 || r.country == country) && (r.state == 0 || r.state == state)
        };
        let mut found: Vec<&TaxRuleInfo> = rules.iter().filter(matching).collect();
        // A state-specific rule replaces the country-wide one unless it combines with it.
        if found.iter().any(|r| r.state != 0 && r.behavior == 0) {
            found.retain(|r| r.state != 0);
        }
        found
    }

    fn read_configurations(&mut self, records: &[Record]) {
        for r in records {
            let f = Fields::new(r, "configurations");
            let Some(name) = f.text("name") else { continue };
            self.configurations
                .entry(name.to_string())
                .or_default()
                .push(ConfigValue {
                    value: r.text("value").unwrap_or("").trim().to_string(),
                    shop: f.id_ref("id_shop").unwrap_or(0),
                    shop_group: f.id_ref("id_shop_group").unwrap_or(0),
                    updated: f.string("date_upd").unwrap_or_default(),
                });
        }
    }

    fn read_languages(&mut self, records: &[Record]) {
        for r in records {
            let Some(id) = r.id() else { continue };
            let iso_code = Fields::new(r, "languages")
                .string("iso_code")
                .unwrap_or_else(|| id.to_string());
            self.languages.push(Language {
                id: id as u32,
                iso_code,
            });
        }
        self.languages.sort_by_key(|l| l.id);
    }

    fn read_currencies(&mut self, records: &[Record]) {
        for r in records {
            let Some(id) = r.id() else { continue };
            let f = Fields::new(r, "currencies");
            let raw_code = f.string("iso_code").unwrap_or_default();
            self.currencies.insert(
                id,
                CurrencyInfo {
                    code: iso::currency_code(&raw_code),
                    raw_code,
                    precision: f
                        .text("precision")
                        .and_then(|p| p.parse().ok())
                        .unwrap_or(2),
                },
            );
        }
    }

    fn read_places(&mut self, records: &RecordSet) {
        for r in records.records("countries") {
            let Some(id) = r.id() else { continue };
            let alpha2 = Fields::new(r, "countries")
                .string("iso_code")
                .unwrap_or_default();
            let alpha3 = iso::country_alpha3(&alpha2);
            self.countries.insert(id, CountryInfo { alpha3, alpha2 });
        }
        for r in records.records("states") {
            if let (Some(id), Some(name)) = (r.id(), self.localized(r, "name")) {
                self.states.insert(id, name.to_string());
            }
        }
    }

    fn read_orders_refs(&mut self, records: &RecordSet) {
        for r in records.records("order_states") {
            let Some(id) = r.id() else { continue };
            let f = Fields::new(r, "order_states");
            self.order_states.insert(
                id,
                OrderStateInfo {
                    name: self.localized(r, "name").unwrap_or("").to_string(),
                    template: self.localized(r, "template").unwrap_or("").to_string(),
                    paid: f.flag("paid"),
                    shipped: f.flag("shipped"),
                    module_name: f.string("module_name").unwrap_or_default(),
                },
            );
        }
        for r in records.records("carriers") {
            if let Some(id) = r.id() {
                let f = Fields::new(r, "carriers");
                self.carriers.insert(
                    id,
                    CarrierInfo {
                        name: f.string("name").unwrap_or_default(),
                        tax_rules_group: f.id_ref("id_tax_rules_group").unwrap_or(0),
                    },
                );
            }
        }
    }

    fn read_taxes(&mut self, records: &RecordSet) {
        for r in records.records("taxes") {
            let Some(id) = r.id() else { continue };
            let rate = Fields::new(r, "taxes").amount("rate").unwrap_or_default();
            let name = self.localized(r, "name").unwrap_or("").to_string();
            self.taxes.insert(id, TaxInfo { name, rate });
        }
        for r in records.records("tax_rule_groups") {
            if let Some(id) = r.id() {
                let f = Fields::new(r, "tax_rule_groups");
                self.tax_rule_groups
                    .insert(id, f.string("name").unwrap_or_default());
                let updated = self.clock.field(&f, "date_upd").ok().flatten();
                self.tax_rule_group_updated.insert(id, updated);
            }
        }
        let mut rules: Vec<&Record> = records.records("tax_rules").iter().collect();
        rules.sort_by_key(|r| r.id());
        for r in rules {
            let f = Fields::new(r, "tax_rules");
            let Some(group) = f.id_ref("id_tax_rules_group") else {
                continue;
            };
            let Some(tax) = f.id_ref("id_tax") else {
                continue;
            };
            self.tax_rules.entry(group).or_default().push(TaxRuleInfo {
                country: f.id_ref("id_country").unwrap_or(0),
                state: f.id_ref("id_state").unwrap_or(0),
                tax,
                behavior: f.text("behavior").and_then(|b| b.parse().ok()).unwrap_or(0),
            });
        }
    }

    fn read_catalog(&mut self, records: &RecordSet) {
        for r in records.records("categories") {
            let Some(id) = r.id() else { continue };
            let parent = Fields::new(r, "categories")
                .id_ref("id_parent")
                .unwrap_or(0);
            let name = self.localized(r, "name").unwrap_or("").to_string();
            self.categories.insert(id, CategoryInfo { parent, name });
        }
        let parents: Vec<u64> = self.categories.values().map(|c| c.parent).collect();
        for parent in parents.into_iter().filter(|&p| p != 0) {
            *self.category_children.entry(parent).or_default() += 1;
        }
        for r in records.records("product_options") {
            if let Some(id) = r.id() {
                let name = self
                    .localized(r, "public_name")
                    .or_else(|| self.localized(r, "name"))
                    .unwrap_or("")
                    .to_string();
                self.option_groups.insert(id, name);
            }
        }
        for r in records.records("product_option_values") {
            let Some(id) = r.id() else { continue };
            let group = Fields::new(r, "product_option_values")
                .id_ref("id_attribute_group")
                .unwrap_or(0);
            let name = self.localized(r, "name").unwrap_or("").to_string();
            self.option_values
                .insert(id, OptionValueInfo { group, name });
        }
    }

    fn read_shops(&mut self, records: &RecordSet) {
        for r in records.records("shops") {
            if let Some(id) = r.id() {
                let f = Fields::new(r, "shops");
                self.shops.insert(id, f.string("name").unwrap_or_default());
                if let Some(group) = f.id_ref("id_shop_group") {
                    self.shop_groups.insert(id, group);
                }
            }
        }
        for r in records.records("shop_urls") {
            let f = Fields::new(r, "shop_urls");
            let (Some(shop), Some(domain)) = (
                f.id_ref("id_shop"),
                f.text("domain_ssl").or(f.text("domain")),
            ) else {
                continue;
            };
            let uri = f.text("physical_uri").unwrap_or("/");
            let url = format!(
                "https://{domain}{uri}{}",
                f.text("virtual_uri").unwrap_or("")
            );
            let urls = self.shop_urls.entry(shop).or_default();
            if f.flag("main") {
                urls.insert(0, url);
            } else {
                urls.push(url);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn record(fields: &[(&str, &str)]) -> Record {
        Record::from_text_fields(fields)
    }

    fn config(id: &str, name: &str, value: &str, shop: &str, group: &str) -> Record {
        record(&[
            ("id", id),
            ("name", name),
            ("value", value),
            ("id_shop", shop),
            ("id_shop_group", group),
        ])
    }

    #[test]
    fn configuration_scopes_shop_then_group_then_global() {
        let mut set = RecordSet::new();
        set.extend(
            "configurations",
            [
                config("1", "PS_SHOP_NAME", "Global", "", ""),
                config("2", "PS_SHOP_NAME", "Group 2", "", "2"),
                config("3", "PS_SHOP_NAME", "Shop 3", "3", "2"),
                config("4", "PS_TIMEZONE", "America/New_York", "", ""),
            ],
        );
        set.extend(
            "shops",
            [
                record(&[("id", "1"), ("id_shop_group", "1")]),
                record(&[("id", "3"), ("id_shop_group", "2")]),
                record(&[("id", "4"), ("id_shop_group", "2")]),
            ],
        );
        let opts = MapOptions::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        let refs = ReferenceData::build(&set, &opts).unwrap();
        assert_eq!(refs.config("PS_SHOP_NAME", Some(3)), Some("Shop 3"));
        assert_eq!(refs.config("PS_SHOP_NAME", Some(4)), Some("Group 2"));
        assert_eq!(refs.config("PS_SHOP_NAME", Some(1)), Some("Global"));
        assert_eq!(refs.config("PS_SHOP_NAME", None), Some("Global"));
        assert_eq!(refs.config("PS_MISSING", None), None);
        assert_eq!(refs.clock.tz().name(), "America/New_York");
        assert_eq!(
            refs.reading_language, 1,
            "no PS_LANG_DEFAULT, no languages: 1"
        );
    }

    #[test]
    fn applicable_taxes_prefer_state_rules_that_replace_the_country_rule() {
        let mut set = RecordSet::new();
        set.extend(
            "tax_rules",
            [
                record(&[
                    ("id", "1"),
                    ("id_tax_rules_group", "9"),
                    ("id_country", "21"),
                    ("id_state", "0"),
                    ("id_tax", "1"),
                    ("behavior", "0"),
                ]),
                record(&[
                    ("id", "2"),
                    ("id_tax_rules_group", "9"),
                    ("id_country", "21"),
                    ("id_state", "5"),
                    ("id_tax", "2"),
                    ("behavior", "0"),
                ]),
                record(&[
                    ("id", "3"),
                    ("id_tax_rules_group", "9"),
                    ("id_country", "8"),
                    ("id_state", "0"),
                    ("id_tax", "3"),
                    ("behavior", "0"),
                ]),
            ],
        );
        let opts = MapOptions::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        let refs = ReferenceData::build(&set, &opts).unwrap();
        let taxes = |country, state| -> Vec<u64> {
            refs.applicable_taxes(9, country, state)
                .iter()
                .map(|r| r.tax)
                .collect()
        };
        assert_eq!(taxes(21, 5), [2]);
        assert_eq!(taxes(21, 6), [1]);
        assert_eq!(taxes(8, 0), [3]);
        assert!(taxes(99, 0).is_empty());
    }

    #[test]
    fn a_page_on_a_base_sees_what_one_build_of_both_sees() {
        let mut reference = RecordSet::new();
        reference.extend(
            "configurations",
            [config("1", "PS_TIMEZONE", "Europe/Paris", "", "")],
        );
        reference.extend("taxes", [record(&[("id", "1"), ("rate", "20.000")])]);
        reference.mark_read("countries");
        let mut page = RecordSet::new();
        page.extend(
            "addresses",
            [
                record(&[("id", "9"), ("id_customer", "4"), ("deleted", "0")]),
                record(&[("id", "5"), ("id_customer", "4"), ("deleted", "0")]),
                record(&[("id", "6"), ("id_customer", "4"), ("deleted", "1")]),
            ],
        );
        page.extend(
            "customers",
            [record(&[
                ("id", "4"),
                ("firstname", "Ada"),
                ("lastname", "L"),
            ])],
        );
        page.extend(
            "stock_availables",
            [record(&[
                ("id", "1"),
                ("id_product", "7"),
                ("id_product_attribute", "2"),
                ("quantity", "3"),
            ])],
        );
        page.extend(
            "combinations",
            [
                record(&[("id", "3"), ("id_product", "7")]),
                record(&[("id", "2"), ("id_product", "7")]),
            ],
        );
        page.mark_read("orders");
        let mut both = reference.clone();
        for resource in page.resources() {
            both.mark_read(resource);
            both.extend(resource, page.records(resource).iter().cloned());
        }
        let opts = MapOptions::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        let base = ReferenceData::build(&reference, &opts).unwrap();
        let paged = ReferenceData::for_page(&base, &page);
        let whole = ReferenceData::build(&both, &opts).unwrap();
        assert!(
            Arc::ptr_eq(paged.shared(), base.shared()),
            "the shared part is not copied"
        );
        assert_eq!(paged.addresses, whole.addresses);
        assert_eq!(paged.customer_addresses, whole.customer_addresses);
        assert_eq!(paged.customer_addresses[&4], [5, 9]);
        assert_eq!(paged.customer_names, whole.customer_names);
        assert_eq!(paged.stock, whole.stock);
        assert_eq!(paged.combinations, whole.combinations);
        assert_eq!(paged.known_ids, whole.known_ids);
        assert!(paged.is_missing("orders", 1) && paged.is_missing("taxes", 2));
        assert!(!paged.is_missing("taxes", 1) && !paged.is_missing("products", 1));
        assert_eq!(paged.clock.tz().name(), "Europe/Paris");
        assert_eq!(paged.taxes, whole.taxes);
        // The base itself is not changed by its pages.
        assert!(base.addresses.is_empty() && !base.known_ids.contains_key("orders"));
    }
}
