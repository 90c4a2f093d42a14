//! Add-on module rules, as data: a built-in table of common payment modules plus a user file
//! (TOML) that adds payment modules, order-state statuses, extra resources to copy raw and
//! extra fields to keep in supplementalData. See the crate README for the file format.

use indexmap::IndexMap;
use prestalink_commerce::{PaymentStatus, PaymentType};
use serde::Deserialize;

use crate::error::MappingError;

/// Customer fields that never pass through, whatever a rules file asks.
pub const SECRET_FIELDS: [&str; 3] = ["passwd", "secure_key", "reset_password_token"];

/// A payment module: its display name and payment type.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentModule {
    /// Technical module name as in `orders.module` (`ps_checkpayment`).
    pub module: String,
    /// Display name.
    pub name: String,
    /// Payment type.
    #[serde(rename = "type")]
    pub payment_type: PaymentType,
    /// Other names the module writes into `orders.payment` / `order_payments.payment_method`.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// How to tell a payment's status from the order's current state. Rules are tried in
/// order; the first that matches wins.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateRule {
    /// Matches this order state id.
    #[serde(default)]
    pub id: Option<u64>,
    /// Matches states with this mail template (stable across languages: `order_canceled`).
    #[serde(default)]
    pub template: Option<String>,
    /// Matches states whose `paid` flag has this value.
    #[serde(default)]
    pub paid: Option<bool>,
    /// Matches states created by a payment module (`module_name` not empty) when true.
    #[serde(default)]
    pub has_module: Option<bool>,
    /// The payment status to report.
    pub status: PaymentStatus,
}

impl StateRule {
    fn template(template: &str, status: PaymentStatus) -> Self {
        StateRule {
            id: None,
            template: Some(template.to_string()),
            paid: None,
            has_module: None,
            status,
        }
    }

    /// Whether the rule matches a state.
    pub fn matches(&self, id: u64, template: &str, paid: bool, module_name: &str) -> bool {
        self.id.is_none_or(|x| x == id)
            && self.template.as_deref().is_none_or(|t| t == template)
            && self.paid.is_none_or(|p| p == paid)
            && self.has_module.is_none_or(|m| m != module_name.is_empty())
            && (self.id.is_some()
                || self.template.is_some()
                || self.paid.is_some()
                || self.has_module.is_some())
    }
}

/// A module resource to copy raw (no mapping) into the store, next to the commerce data.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraResource {
    /// Webservice resource name (`mymodule_loyalty`).
    pub resource: String,
}

/// The rules in force for a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleRules {
    /// Payment modules by module name (lower case).
    pub payment_modules: IndexMap<String, PaymentModule>,
    /// Order-state → payment-status rules, user rules first.
    pub state_rules: Vec<StateRule>,
    /// Extra resources to copy raw.
    pub extra_resources: Vec<ExtraResource>,
    /// Extra fields per resource (`orders` → [`my_field`]) to keep in supplementalData.
    pub extra_fields: IndexMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    payment_modules: Vec<PaymentModule>,
    #[serde(default)]
    order_states: Vec<StateRule>,
    #[serde(default)]
    extra_resources: Vec<ExtraResource>,
    #[serde(default)]
    extra_fields: IndexMap<String, Vec<String>>,
}

fn module(module: &str, name: &str, payment_type: PaymentType, aliases: &[&str]) -> PaymentModule {
    PaymentModule {
        module: module.to_string(),
        name: name.to_string(),
        payment_type,
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
    }
}

impl ModuleRules {
    /// The built-in rules: common PrestaShop payment modules (1.6 to 9) and the states of a
    /// stock PrestaShop install.
    pub fn builtin() -> Self {
        use PaymentType::*;
        let modules = [
            module(
                "ps_checkpayment",
                "Payments by check",
                Custom,
                &["Payment by check", "Check"],
            ),
            module("cheque", "Payments by check", Custom, &[]),
            module(
                "ps_wirepayment",
                "Bank wire",
                Custom,
                &["Bank transfer", "Wire payment"],
            ),
            module("bankwire", "Bank wire", Custom, &[]),
            module(
                "ps_cashondelivery",
                "Cash on delivery",
                Cash,
                &["Cash on delivery (COD)"],
            ),
            module("cashondelivery", "Cash on delivery", Cash, &[]),
            module("paypal", "PayPal", Paypal, &["PayPal Express Checkout"]),
            module("ps_checkout", "PrestaShop Checkout", Paypal, &[]),
            module("braintreeofficial", "Braintree", OnlineCard, &[]),
            module("stripe_official", "Stripe", OnlineCard, &["Stripe payment"]),
            module("mollie", "Mollie", OnlineCard, &[]),
            module("payplug", "PayPlug", OnlineCard, &[]),
            module("adyenofficial", "Adyen", OnlineCard, &[]),
            module("payzen", "PayZen", OnlineCard, &[]),
            module("lyrapayment", "Lyra", OnlineCard, &[]),
            module("monei", "MONEI", OnlineCard, &[]),
            module("sumup", "SumUp", OnlineCard, &[]),
            module("klarnapaymentsofficial", "Klarna", Invoice, &[]),
            module("alma", "Alma", Invoice, &[]),
            module("amazonpay", "Amazon Pay", OnlineCard, &[]),
            module("ps_googlepay", "Google Pay", Mobile, &[]),
            module("twint", "TWINT", Mobile, &[]),
            module("swish", "Swish", Swish, &[]),
            module("vipps", "Vipps", Vipps, &[]),
            module("free_order", "Free order", StoreCredit, &[]),
        ];
        let state_rules = vec![
            StateRule::template("order_canceled", PaymentStatus::Cancelled),
            StateRule::template("payment_error", PaymentStatus::Failed),
            // A refunded order was paid; the refund itself is a Refund transaction.
            StateRule::template("refund", PaymentStatus::Paid),
            StateRule {
                id: None,
                template: None,
                paid: Some(true),
                has_module: None,
                status: PaymentStatus::Paid,
            },
            StateRule::template("cheque", PaymentStatus::Pending),
            StateRule::template("bankwire", PaymentStatus::Pending),
            StateRule::template("cashondelivery", PaymentStatus::Pending),
            StateRule::template("outofstock", PaymentStatus::Pending),
            StateRule {
                id: None,
                template: None,
                paid: Some(false),
                has_module: Some(true),
                status: PaymentStatus::Pending,
            },
        ];
        ModuleRules {
            payment_modules: modules
                .into_iter()
                .map(|m| (m.module.to_ascii_lowercase(), m))
                .collect(),
            state_rules,
            extra_resources: Vec::new(),
            extra_fields: IndexMap::new(),
        }
    }

    /// The built-in rules extended by a user rules file (TOML). User payment modules replace
    /// built-in ones of the same name; user state rules are tried before the built-in ones.
    /// Secret customer fields are refused as extra fields.
    pub fn from_toml(text: &str) -> Result<Self, MappingError> {
        let file: RulesFile =
            toml::from_str(text).map_err(|e| MappingError::InvalidRules(e.to_string()))?;
        let mut rules = ModuleRules::builtin();
        for m in file.payment_modules {
            rules
                .payment_modules
                .insert(m.module.to_ascii_lowercase(), m);
        }
        let mut state_rules = file.order_states;
        if let Some(r) = state_rules.iter().find(|r| {
            r.id.is_none() && r.template.is_none() && r.paid.is_none() && r.has_module.is_none()
        }) {
            return Err(MappingError::InvalidRules(format!(
                "order_states rule for {:?} matches nothing: give id, template, paid or has_module",
                r.status
            )));
        }
        state_rules.extend(rules.state_rules);
        rules.state_rules = state_rules;
        rules.extra_resources = file.extra_resources;
        for (resource, fields) in &file.extra_fields {
            if let Some(secret) = fields.iter().find(|f| SECRET_FIELDS.contains(&f.as_str())) {
                return Err(MappingError::InvalidRules(format!(
                    "extra_fields.{resource} asks for `{secret}`, a customer secret that prestalink never reads"
                )));
            }
        }
        rules.extra_fields = file.extra_fields;
        Ok(rules)
    }

    /// The module known by technical name, or by one of the names modules write into
    /// `orders.payment` / `order_payments.payment_method` (case-insensitive).
    pub fn payment_module(&self, name: &str) -> Option<&PaymentModule> {
        let name = name.trim();
        let exact = self.payment_modules.get(name);
        let folded = || {
            let upper = name.bytes().any(|b| b.is_ascii_uppercase());
            upper
                .then(|| self.payment_modules.get(&name.to_ascii_lowercase()))
                .flatten()
        };
        exact.or_else(folded).or_else(|| {
            self.payment_modules.values().find(|m| {
                m.name.eq_ignore_ascii_case(name)
                    || m.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
            })
        })
    }

    /// The payment status of an order state, by the first matching rule; `Unknown` if none.
    pub fn payment_status(
        &self,
        id: u64,
        template: &str,
        paid: bool,
        module_name: &str,
    ) -> PaymentStatus {
        self.state_rules
            .iter()
            .find(|r| r.matches(id, template, paid, module_name))
            .map_or(PaymentStatus::Unknown, |r| r.status)
    }

    /// Extra fields to keep for a resource.
    pub fn extra_fields(&self, resource: &str) -> &[String] {
        self.extra_fields.get(resource).map_or(&[], Vec::as_slice)
    }
}

impl Default for ModuleRules {
    fn default() -> Self {
        ModuleRules::builtin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_modules_and_aliases() {
        let rules = ModuleRules::builtin();
        let check = rules.payment_module("ps_checkpayment").unwrap();
        assert_eq!(check.payment_type, PaymentType::Custom);
        assert_eq!(
            rules.payment_module("Payment by check").unwrap().module,
            "ps_checkpayment"
        );
        assert_eq!(
            rules
                .payment_module("PS_CASHONDELIVERY")
                .unwrap()
                .payment_type,
            PaymentType::Cash
        );
        assert!(rules.payment_module("my_new_gateway").is_none());
    }

    #[test]
    fn stock_states_get_their_status() {
        let rules = ModuleRules::builtin();
        assert_eq!(
            rules.payment_status(6, "order_canceled", false, ""),
            PaymentStatus::Cancelled
        );
        assert_eq!(
            rules.payment_status(8, "payment_error", false, ""),
            PaymentStatus::Failed
        );
        assert_eq!(
            rules.payment_status(2, "payment", true, ""),
            PaymentStatus::Paid
        );
        assert_eq!(rules.payment_status(5, "", true, ""), PaymentStatus::Paid);
        assert_eq!(
            rules.payment_status(1, "cheque", false, "ps_checkpayment"),
            PaymentStatus::Pending
        );
        assert_eq!(
            rules.payment_status(12, "outofstock", false, ""),
            PaymentStatus::Pending
        );
        assert_eq!(
            rules.payment_status(42, "custom", false, ""),
            PaymentStatus::Unknown
        );
    }

    #[test]
    fn user_file_extends_the_builtin_table() {
        let rules = ModuleRules::from_toml(
            r#"
            [[payment_modules]]
            module = "my_gateway"
            name = "My Gateway"
            type = "OnlineCard"
            aliases = ["Card (My Gateway)"]

            [[order_states]]
            id = 42
            status = "Authorized"

            [[extra_resources]]
            resource = "loyalty_points"

            [extra_fields]
            orders = ["gift_code"]
            "#,
        )
        .unwrap();
        assert_eq!(
            rules.payment_module("Card (My Gateway)").unwrap().module,
            "my_gateway"
        );
        assert_eq!(
            rules.payment_status(42, "custom", false, ""),
            PaymentStatus::Authorized
        );
        assert_eq!(
            rules.payment_status(6, "order_canceled", false, ""),
            PaymentStatus::Cancelled
        );
        assert_eq!(rules.extra_fields("orders"), ["gift_code".to_string()]);
        assert_eq!(rules.extra_resources[0].resource, "loyalty_points");
    }

    #[test]
    fn user_file_errors_are_reported() {
        assert!(ModuleRules::from_toml("[extra_fields]\ncustomers = [\"passwd\"]").is_err());
        assert!(ModuleRules::from_toml("[[order_states]]\nstatus = \"Paid\"").is_err());
        assert!(ModuleRules::from_toml(
            "[[payment_modules]]\nmodule = \"x\"\nname = \"X\"\ntype = \"Bitcoin\""
        )
        .is_err());
        assert!(ModuleRules::from_toml("bogus = 1").is_err());
    }
}
