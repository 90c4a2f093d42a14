//! English and French for the pages (French: PrestaShop's home market).
//!
//! The language comes from `?lang=` (which also sets the `lang` cookie, so the choice
//! sticks), else the `lang` cookie, else the browser's `Accept-Language` (parsed by the
//! `accept-language` crate), else English.
//!
//! Messages are a typed table, one [`Messages`] value per language, rather than a runtime
//! catalogue (fluent, rust-i18n): a message missing in one language is a compile error, not
//! a blank or an English fallback found by a merchant. Text with values uses named
//! placeholders (`{client}`) filled by [`fill`].

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use prestalink_webservice::diagnose::{DiagnosisCode, WarningCode};

/// The name of the cookie that keeps the chosen language.
pub const LANG_COOKIE: &str = "lang";

/// A language the pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// French.
    Fr,
}

impl Lang {
    /// Every language, in the order of the language switch.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    /// The BCP 47 code (`en`, `fr`), for `lang` attributes and `?lang=`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The language's own name, for the switch.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "Français",
        }
    }

    /// A language from a code or tag (`fr`, `fr-CA`, `EN`); `None` for others.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "fr" => Some(Lang::Fr),
            _ => None,
        }
    }

    /// The first language of an `Accept-Language` header that the pages are written in.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        accept_language::parse(header)
            .iter()
            .find_map(|tag| Lang::parse(tag))
    }

    /// The language asked for by `?lang=` in a query string.
    pub fn from_query(query: &str) -> Option<Lang> {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(&v))
    }

    /// The language of a request: `?lang=`, the cookie, `Accept-Language`, English.
    pub fn of_request(parts: &Parts) -> Lang {
        if let Some(lang) = parts.uri.query().and_then(Lang::from_query) {
            return lang;
        }
        let jar = CookieJar::from_headers(&parts.headers);
        if let Some(lang) = jar.get(LANG_COOKIE).and_then(|c| Lang::parse(c.value())) {
            return lang;
        }
        parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Lang::from_accept_language)
            .unwrap_or(Lang::En)
    }

    /// The messages in this language.
    pub fn t(self) -> &'static Messages {
        match self {
            Lang::En => &EN,
            Lang::Fr => &FR,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Lang, Self::Rejection> {
        Ok(Lang::of_request(parts))
    }
}

/// Replaces each `{name}` of `template` by its value.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut text = template.to_string();
    for (name, value) in values {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

/// Every message of the pages in one language.
pub struct Messages {
    /// Shared by every page.
    pub common: Common,
    /// The Link page.
    pub link: LinkMessages,
}

/// Messages of the page shell and of errors any page can show.
pub struct Common {
    /// The skip link to the main content.
    pub skip_link: &'static str,
    /// Label of the language switch.
    pub language: &'static str,
    /// Label of the main navigation.
    pub nav_label: &'static str,
    /// Footer line.
    pub footer: &'static str,
    /// Title of the 404 page.
    pub not_found_title: &'static str,
    /// Body of the 404 page for an unknown company.
    pub company_not_found: &'static str,
    /// A form whose CSRF token is missing or wrong.
    pub form_expired_title: &'static str,
    /// What to do about it.
    pub form_expired_body: &'static str,
    /// Title of the page shown when the server failed.
    pub server_error_title: &'static str,
    /// Its body.
    pub server_error_body: &'static str,
    /// Marks a required field.
    pub required: &'static str,
}

/// Messages of the Link page.
pub struct LinkMessages {
    /// Page title.
    pub title: &'static str,
    /// `{client}`: the client application asks for access.
    pub intro: &'static str,
    /// Heading of the steps.
    pub steps_heading: &'static str,
    /// The steps in the back office (`{client}` in the third).
    pub steps: [&'static str; 5],
    /// Heading of the resources table.
    pub resources_heading: &'static str,
    /// Text before the resources table.
    pub resources_intro: &'static str,
    /// Column: the data.
    pub col_data: &'static str,
    /// Column: the resources.
    pub col_resources: &'static str,
    /// Heading: what the key is used for.
    pub key_use_heading: &'static str,
    /// What the key is used for and how it is kept.
    pub key_use_body: &'static str,
    /// Heading: revoking.
    pub revoke_heading: &'static str,
    /// How to revoke the key.
    pub revoke_body: &'static str,
    /// Heading of the form.
    pub form_heading: &'static str,
    /// `{store}`: the company is already linked to a store.
    pub already_linked: &'static str,
    /// Label of the store URL field.
    pub store_url_label: &'static str,
    /// Hint under it.
    pub store_url_hint: &'static str,
    /// Label of the key field.
    pub key_label: &'static str,
    /// Hint under it.
    pub key_hint: &'static str,
    /// The submit button.
    pub submit: &'static str,
    /// The store URL field is empty or too long.
    pub store_url_missing: &'static str,
    /// The key field is empty or too long.
    pub key_missing: &'static str,
    /// Heading of a failed check.
    pub failed_heading: &'static str,
    /// Label before the fix.
    pub what_to_do: &'static str,
    /// Summary of the technical details.
    pub details: &'static str,
    /// Heading of the redirect question.
    pub redirect_heading: &'static str,
    /// `{from}`, `{to}`: the question.
    pub redirect_question: &'static str,
    /// Confirm button.
    pub confirm: &'static str,
    /// Cancel button.
    pub cancel: &'static str,
    /// After Cancel.
    pub redirect_cancelled: &'static str,
    /// Heading: data will be missing.
    pub missing_heading: &'static str,
    /// Before the list of what is missing.
    pub missing_intro: &'static str,
    /// Column: the resource the key cannot read.
    pub col_resource: &'static str,
    /// Column: data that will be missing.
    pub col_missing_data: &'static str,
    /// How to get everything.
    pub missing_fix: &'static str,
    /// Button: link all the same.
    pub continue_anyway: &'static str,
    /// Button: back to the form.
    pub fix_key_first: &'static str,
    /// Heading of success.
    pub connected_heading: &'static str,
    /// `{store}`: success.
    pub connected_body: &'static str,
    /// Heading of the warnings.
    pub warnings_heading: &'static str,
    /// `{client}`: button to the client's redirect URL.
    pub continue_to: &'static str,
    /// A confirmation whose attempt is gone (expired or already used).
    pub expired: &'static str,
    /// The client name when the profile has none.
    pub default_client: &'static str,
}

/// English.
pub static EN: Messages = Messages {
    common: Common {
        skip_link: "Skip to main content",
        language: "Language",
        nav_label: "Main",
        footer: "prestalink reads your PrestaShop store through its Webservice and keeps the data on this server.",
        not_found_title: "Page not found",
        company_not_found: "This link does not lead to any company. Ask the sender for a new link.",
        form_expired_title: "This form has expired",
        form_expired_body: "The form was sent without its security token, or from another page. Open the page again and send the form from there.",
        server_error_title: "Something went wrong",
        server_error_body: "The server failed while answering; the failure was logged. Try again in a moment.",
        required: "required",
    },
    link: LinkMessages {
        title: "Connect your PrestaShop store",
        intro: "{client} asks to read your store's data (orders, customers, products, payments and refunds) through PrestaShop's Webservice. It only reads: nothing in your store is changed.",
        steps_heading: "1. Create a Webservice key in your back office",
        steps: [
            "Sign in to your PrestaShop back office and open Advanced Parameters > Webservice.",
            "Set \u{201c}Enable PrestaShop's webservice\u{201d} to Yes and click Save.",
            "Click \u{201c}Add new webservice key\u{201d}, then \u{201c}Generate!\u{201d}. As Key description, write \u{201c}{client}\u{201d} so you can recognise it later.",
            "In the Permissions table, tick the View (GET) column for the resources listed below. Leave every other column empty: the key only needs to read.",
            "Check that Status is Yes and click Save. Copy the key (32 letters and digits) and paste it in the form (step 2).",
        ],
        resources_heading: "Which resources feed which data",
        resources_intro: "A resource left unticked only leaves out the data next to it; the rest still works.",
        col_data: "Data",
        col_resources: "Resources to allow (View / GET)",
        key_use_heading: "What the key is used for",
        key_use_body: "The key is used only to read your store through its Webservice, with GET requests. It is stored encrypted (AES-256-GCM) on this server, never shown again, and never written to logs.",
        revoke_heading: "How to revoke access",
        revoke_body: "At any time, open Advanced Parameters > Webservice in your back office and delete the key, or set its Status to No. Reading stops at once.",
        form_heading: "2. Enter your store and the key",
        already_linked: "This company is already connected to {store}. Sending the form checks the store again and replaces the key.",
        store_url_label: "Store address",
        store_url_hint: "The address of your shop as it appears in the browser, for example https://shop.example.com",
        key_label: "Webservice key",
        key_hint: "32 letters and digits. It is never shown again after you send it.",
        submit: "Connect my store",
        store_url_missing: "Enter your store's address (at most 2048 characters).",
        key_missing: "Paste the Webservice key (at most 2048 characters).",
        failed_heading: "Your store is not connected yet",
        what_to_do: "What to do:",
        details: "Technical details",
        redirect_heading: "Your store address redirects",
        redirect_question: "Your store address redirects to {to}. Connect to that address instead?",
        confirm: "Confirm",
        cancel: "Cancel",
        redirect_cancelled: "The redirect was not followed and nothing was connected. Check your store's address and send the form again.",
        missing_heading: "Some data will be missing",
        missing_intro: "The key works, but it cannot read some resources, so this data will be missing or incomplete:",
        col_resource: "Resource",
        col_missing_data: "Data that will be missing",
        missing_fix: "To get everything: in Advanced Parameters > Webservice, edit the key, tick View (GET) for these resources, save, then send the form again.",
        continue_anyway: "Continue anyway",
        fix_key_first: "Go back and fix the key",
        connected_heading: "You are connected",
        connected_body: "Your store {store} is connected. The first reading of your data has started; you can close this page.",
        warnings_heading: "Worth knowing",
        continue_to: "Continue to {client}",
        expired: "This step has expired (it lasts 15 minutes) or was already used. Send the form again.",
        default_client: "This application",
    },
};

/// French.
pub static FR: Messages = Messages {
    common: Common {
        skip_link: "Aller au contenu principal",
        language: "Langue",
        nav_label: "Principal",
        footer: "prestalink lit votre boutique PrestaShop par son Webservice et conserve les données sur ce serveur.",
        not_found_title: "Page introuvable",
        company_not_found: "Ce lien ne mène à aucune entreprise. Demandez un nouveau lien à son expéditeur.",
        form_expired_title: "Ce formulaire a expiré",
        form_expired_body: "Le formulaire a été envoyé sans son jeton de sécurité, ou depuis une autre page. Rouvrez la page et envoyez le formulaire depuis celle-ci.",
        server_error_title: "Une erreur est survenue",
        server_error_body: "Le serveur a échoué en répondant ; l'erreur a été journalisée. Réessayez dans un instant.",
        required: "obligatoire",
    },
    link: LinkMessages {
        title: "Connectez votre boutique PrestaShop",
        intro: "{client} demande à lire les données de votre boutique (commandes, clients, produits, paiements et remboursements) par le Webservice de PrestaShop. Il ne fait que lire : rien n'est modifié dans votre boutique.",
        steps_heading: "1. Créez une clé Webservice dans votre back-office",
        steps: [
            "Connectez-vous au back-office de PrestaShop et ouvrez Paramètres avancés > Webservice.",
            "Réglez « Activer le service web de PrestaShop » sur Oui et cliquez sur Enregistrer.",
            "Cliquez sur « Ajouter une nouvelle clé webservice », puis sur « Générer ! ». Comme description de la clé, écrivez « {client} » pour la reconnaître plus tard.",
            "Dans le tableau des permissions, cochez la colonne Voir (GET) pour les ressources listées ci-dessous. Laissez les autres colonnes vides : la clé n'a besoin que de lire.",
            "Vérifiez que l'état est Oui et cliquez sur Enregistrer. Copiez la clé (32 lettres et chiffres) et collez-la dans le formulaire (étape 2).",
        ],
        resources_heading: "Quelles ressources donnent quelles données",
        resources_intro: "Une ressource non cochée ne prive que des données en regard ; le reste fonctionne.",
        col_data: "Données",
        col_resources: "Ressources à autoriser (Voir / GET)",
        key_use_heading: "À quoi sert la clé",
        key_use_body: "La clé sert uniquement à lire votre boutique par son Webservice, avec des requêtes GET. Elle est conservée chiffrée (AES-256-GCM) sur ce serveur, n'est plus jamais affichée et n'est jamais écrite dans les journaux.",
        revoke_heading: "Comment retirer l'accès",
        revoke_body: "À tout moment, ouvrez Paramètres avancés > Webservice dans votre back-office et supprimez la clé, ou réglez son état sur Non. La lecture s'arrête aussitôt.",
        form_heading: "2. Saisissez votre boutique et la clé",
        already_linked: "Cette entreprise est déjà connectée à {store}. Envoyer le formulaire vérifie de nouveau la boutique et remplace la clé.",
        store_url_label: "Adresse de la boutique",
        store_url_hint: "L'adresse de votre boutique telle qu'elle apparaît dans le navigateur, par exemple https://boutique.example.com",
        key_label: "Clé Webservice",
        key_hint: "32 lettres et chiffres. Elle n'est plus jamais affichée une fois envoyée.",
        submit: "Connecter ma boutique",
        store_url_missing: "Saisissez l'adresse de votre boutique (2048 caractères au plus).",
        key_missing: "Collez la clé Webservice (2048 caractères au plus).",
        failed_heading: "Votre boutique n'est pas encore connectée",
        what_to_do: "Que faire :",
        details: "Détails techniques",
        redirect_heading: "L'adresse de votre boutique redirige",
        redirect_question: "L'adresse de votre boutique redirige vers {to}. Se connecter plutôt à cette adresse ?",
        confirm: "Confirmer",
        cancel: "Annuler",
        redirect_cancelled: "La redirection n'a pas été suivie et rien n'a été connecté. Vérifiez l'adresse de votre boutique et envoyez de nouveau le formulaire.",
        missing_heading: "Certaines données manqueront",
        missing_intro: "La clé fonctionne, mais elle ne peut pas lire certaines ressources ; ces données seront absentes ou incomplètes :",
        col_resource: "Ressource",
        col_missing_data: "Données qui manqueront",
        missing_fix: "Pour tout obtenir : dans Paramètres avancés > Webservice, modifiez la clé, cochez Voir (GET) pour ces ressources, enregistrez, puis envoyez de nouveau le formulaire.",
        continue_anyway: "Continuer quand même",
        fix_key_first: "Revenir corriger la clé",
        connected_heading: "Vous êtes connecté",
        connected_body: "Votre boutique {store} est connectée. La première lecture de vos données a commencé ; vous pouvez fermer cette page.",
        warnings_heading: "Bon à savoir",
        continue_to: "Continuer vers {client}",
        expired: "Cette étape a expiré (elle dure 15 minutes) ou a déjà été utilisée. Envoyez de nouveau le formulaire.",
        default_client: "Cette application",
    },
};

/// A data type's name for people (`commerce-orders` → Orders / Commandes).
pub fn data_type_label(lang: Lang, data_type: &str) -> &'static str {
    let (en, fr) = match data_type {
        "commerce-info" => ("Company information", "Informations sur l'entreprise"),
        "commerce-customers" => ("Customers", "Clients"),
        "commerce-orders" => ("Orders", "Commandes"),
        "commerce-payments" => ("Payments", "Paiements"),
        "commerce-paymentMethods" => ("Payment methods", "Moyens de paiement"),
        "commerce-products" => ("Products", "Produits"),
        "commerce-productCategories" => ("Product categories", "Catégories de produits"),
        "commerce-taxComponents" => ("Taxes", "Taxes"),
        "commerce-transactions" => (
            "Transactions (payments and refunds)",
            "Transactions (paiements et remboursements)",
        ),
        "commerce-locations" => (
            "Locations (shops and stores)",
            "Emplacements (boutiques et magasins)",
        ),
        _ => ("Other data", "Autres données"),
    };
    match lang {
        Lang::En => en,
        Lang::Fr => fr,
    }
}

/// The merchant's words for a diagnosis code: a short heading, what was found and what to do
/// (`{host}` is the store's host). The English page shows the diagnosis's own, more
/// detailed message and fix under the heading; the French page shows these and the English
/// details folded.
pub fn diagnosis_text(
    lang: Lang,
    code: DiagnosisCode,
) -> (&'static str, &'static str, &'static str) {
    use DiagnosisCode as C;
    match (lang, code) {
        (Lang::En, C::Connected) => ("Connected", "The store can be read.", ""),
        (Lang::Fr, C::Connected) => ("Connecté", "La boutique peut être lue.", ""),
        (Lang::En, C::RedirectNeedsConfirmation) => (
            "Your store address redirects",
            "The store address redirects to another address.",
            "Confirm the redirect if the new address is your shop.",
        ),
        (Lang::Fr, C::RedirectNeedsConfirmation) => (
            "L'adresse de votre boutique redirige",
            "L'adresse de la boutique redirige vers une autre adresse.",
            "Confirmez la redirection si la nouvelle adresse est bien celle de votre boutique.",
        ),
        (Lang::En, C::InvalidUrl) => (
            "The store address cannot be used",
            "The store address cannot be used.",
            "Enter the address of your shop as it appears in the browser, for example https://shop.example.com.",
        ),
        (Lang::Fr, C::InvalidUrl) => (
            "L'adresse de la boutique est inutilisable",
            "L'adresse de la boutique ne peut pas être utilisée.",
            "Saisissez l'adresse de votre boutique telle qu'elle apparaît dans le navigateur, par exemple https://boutique.example.com (avec le dossier si PrestaShop y est installé, par exemple https://example.com/boutique).",
        ),
        (Lang::En, C::InvalidKeyFormat) => (
            "The key is malformed",
            "The Webservice key is malformed.",
            "Copy the key again from Advanced Parameters > Webservice (32 letters and digits).",
        ),
        (Lang::Fr, C::InvalidKeyFormat) => (
            "La clé est mal formée",
            "La clé Webservice est mal formée.",
            "Copiez de nouveau la clé depuis le back-office : Paramètres avancés > Webservice, colonne Clé (32 lettres et chiffres). S'il n'y a pas encore de clé, cliquez sur « Ajouter une nouvelle clé webservice ».",
        ),
        (Lang::En, C::Unreachable) => (
            "Your store cannot be reached",
            "The store at {host} cannot be reached.",
            "Check the address and that the shop opens in a browser.",
        ),
        (Lang::Fr, C::Unreachable) => (
            "Votre boutique est injoignable",
            "La boutique {host} est injoignable : l'adresse est introuvable, ou la connexion est refusée ou coupée.",
            "Vérifiez l'orthographe de l'adresse et que la boutique s'ouvre dans un navigateur. Si c'est le cas, son serveur ou un pare-feu refuse les connexions de ce serveur : demandez à votre hébergeur de les autoriser.",
        ),
        (Lang::En, C::Timeout) => (
            "Your store did not answer in time",
            "The store at {host} did not answer in time.",
            "Check that the shop opens in a browser, then try again.",
        ),
        (Lang::Fr, C::Timeout) => (
            "Votre boutique n'a pas répondu à temps",
            "La boutique {host} n'a pas répondu à temps.",
            "Vérifiez que la boutique s'ouvre dans un navigateur. Si elle est très lente ou surchargée, réessayez plus tard ou demandez à votre hébergeur pourquoi le serveur ne répond pas.",
        ),
        (Lang::En, C::TlsError) => (
            "The secure connection failed",
            "The secure connection to {host} failed: its certificate is not trusted.",
            "Install a valid certificate for this domain.",
        ),
        (Lang::Fr, C::TlsError) => (
            "La connexion sécurisée a échoué",
            "La connexion sécurisée à {host} a échoué : son certificat n'est pas reconnu (auto-signé, expiré ou émis pour un autre nom).",
            "Installez un certificat valide pour ce domaine (la plupart des hébergeurs proposent un certificat Let's Encrypt gratuit dans leur interface).",
        ),
        (Lang::En, C::PlainHttp) => (
            "This address does not speak HTTPS",
            "The address starts with https://, but {host} answers in plain HTTP on that port.",
            "Enter the address with http:// instead, or enable HTTPS on your server and use its HTTPS address.",
        ),
        (Lang::Fr, C::PlainHttp) => (
            "Cette adresse ne parle pas HTTPS",
            "L'adresse commence par https://, mais {host} répond en HTTP simple sur ce port.",
            "Saisissez l'adresse avec http:// à la place, ou activez HTTPS sur votre serveur et utilisez son adresse HTTPS.",
        ),
        (Lang::En, C::NotPrestashop) => (
            "No PrestaShop Webservice at this address",
            "No PrestaShop Webservice answers at {host}.",
            "Enter the address of your PrestaShop shop (its home page).",
        ),
        (Lang::Fr, C::NotPrestashop) => (
            "Aucun Webservice PrestaShop à cette adresse",
            "Aucun Webservice PrestaShop ne répond à {host} : /api/ et /webservice/dispatcher.php renvoient une page web.",
            "Saisissez l'adresse de votre boutique PrestaShop (sa page d'accueil). Si PrestaShop est installé dans un dossier, incluez-le, par exemple https://example.com/boutique.",
        ),
        (Lang::En, C::Blocked) => (
            "A firewall blocks the Webservice",
            "A firewall, security filter or password protection at {host} blocked the request.",
            "Allow requests to /api/ from this server, or ask your host to.",
        ),
        (Lang::Fr, C::Blocked) => (
            "Un pare-feu bloque le Webservice",
            "Un pare-feu, un filtre de sécurité ou une protection par mot de passe de {host} a bloqué la requête.",
            "Autorisez les requêtes vers /api/ (et /webservice/dispatcher.php) depuis ce serveur dans votre pare-feu, CDN ou module de sécurité (par exemple Cloudflare, ModSecurity, un module anti-robots), ou demandez-le à votre hébergeur. Si un mot de passe (.htpasswd) protège la boutique, excluez-en /api/ et /webservice/.",
        ),
        (Lang::En, C::Maintenance) => (
            "Your store is in maintenance",
            "The shop at {host} shows a maintenance page.",
            "Try again when the maintenance is over.",
        ),
        (Lang::Fr, C::Maintenance) => (
            "Votre boutique est en maintenance",
            "La boutique {host} affiche une page de maintenance.",
            "Réessayez à la fin de la maintenance. Si seule la vitrine doit être en maintenance, demandez à votre hébergeur de laisser passer /api/.",
        ),
        (Lang::En, C::WebserviceDisabled) => (
            "The Webservice is switched off",
            "The PrestaShop Webservice is switched off on this shop.",
            "In the back office open Advanced Parameters > Webservice, set 'Enable PrestaShop's webservice' to Yes and save.",
        ),
        (Lang::Fr, C::WebserviceDisabled) => (
            "Le Webservice est désactivé",
            "Le Webservice de PrestaShop est désactivé sur cette boutique.",
            "Dans le back-office, ouvrez Paramètres avancés > Webservice, réglez « Activer le service web de PrestaShop » sur Oui et enregistrez.",
        ),
        (Lang::En, C::InvalidKey) => (
            "The key is not accepted",
            "PrestaShop does not accept this key.",
            "Check the key in Advanced Parameters > Webservice and copy it again.",
        ),
        (Lang::Fr, C::InvalidKey) => (
            "La clé n'est pas acceptée",
            "PrestaShop n'accepte pas cette clé : elle n'existe pas sur cette boutique, elle est désactivée, ou elle ne lui parvient pas.",
            "Dans le back-office, ouvrez Paramètres avancés > Webservice : vérifiez que la clé figure dans la liste et que son état est activé, puis copiez-la de nouveau. Utilisez bien la clé de cette boutique.",
        ),
        (Lang::En, C::NoPermission) => (
            "The key may not read your data",
            "The key is valid, but it may not read any of the data needed.",
            "Tick the View (GET) column for the resources listed above, then save.",
        ),
        (Lang::Fr, C::NoPermission) => (
            "La clé ne peut pas lire vos données",
            "La clé est valide, mais elle ne peut lire aucune des données nécessaires (commandes, clients, produits…).",
            "Dans le back-office, ouvrez Paramètres avancés > Webservice, modifiez cette clé et cochez la colonne Voir (GET) pour les ressources listées plus haut (et la boutique concernée sous « Association boutique » en multiboutique). Puis enregistrez.",
        ),
        (Lang::En, C::ServerError) => (
            "Your store's server failed",
            "The server at {host} answered with an error.",
            "Try again later; if it persists, ask your host.",
        ),
        (Lang::Fr, C::ServerError) => (
            "Le serveur de votre boutique a échoué",
            "Le serveur de {host} a répondu par une erreur.",
            "Réessayez plus tard. Si l'erreur persiste, contactez votre hébergeur : le serveur web ou un proxy devant PrestaShop échoue (voir son journal d'erreurs).",
        ),
        (Lang::En, C::ForbiddenAddress) => (
            "This address may not be reached",
            "The store address {host} is a private or local network address.",
            "Use the shop's public address.",
        ),
        (Lang::Fr, C::ForbiddenAddress) => (
            "Cette adresse n'est pas autorisée",
            "L'adresse de la boutique {host} désigne un réseau privé ou local auquel ce serveur n'a pas le droit de se connecter.",
            "Utilisez l'adresse publique de la boutique. Si prestalink fonctionne sur votre propre réseau et que vous faites confiance à tous les utilisateurs de son API, démarrez le serveur avec --allow-private-stores.",
        ),
    }
}

/// The merchant's words for a warning: a heading, what is going on and what to do. The
/// English page shows the warning's own message and fix under the heading.
pub fn warning_text(lang: Lang, code: WarningCode) -> (&'static str, &'static str, &'static str) {
    use WarningCode as W;
    match (lang, code) {
        (Lang::En, W::AuthHeaderStripped) => (
            "The key travels in the address",
            "Your web server removes the Authorization header, so the key is sent as ws_key in the address.",
            "Let the header through ('CGIPassAuth On' in .htaccess).",
        ),
        (Lang::Fr, W::AuthHeaderStripped) => (
            "La clé passe dans l'adresse",
            "Votre serveur web supprime l'en-tête Authorization avant qu'il n'atteigne PrestaShop : la clé est donc envoyée dans l'adresse (ws_key=…). Cela fonctionne, mais la clé peut apparaître dans les journaux du serveur.",
            "Laissez passer l'en-tête : sous Apache, ajoutez la ligne « CGIPassAuth On » au fichier .htaccess de la boutique, ou dans le back-office ouvrez Paramètres avancés > Webservice, réglez « Activer le mode CGI pour PHP » sur Oui et enregistrez.",
        ),
        (Lang::En, W::UrlRewritingOff) => (
            "URL rewriting is off",
            "The address /api/ does not exist, so /webservice/dispatcher.php is used.",
            "Nothing is required.",
        ),
        (Lang::Fr, W::UrlRewritingOff) => (
            "La réécriture d'URL est désactivée",
            "La réécriture d'URL est désactivée sur votre serveur (l'adresse /api/ n'existe pas) : /webservice/dispatcher.php est utilisé, il donne les mêmes données.",
            "Rien n'est nécessaire. Pour utiliser l'adresse /api/ habituelle, activez mod_rewrite d'Apache, puis dans le back-office ouvrez Paramètres de la boutique > Trafic et SEO, activez les URL simplifiées et enregistrez.",
        ),
        (Lang::En, W::MissingPermissions) => (
            "Some data will be missing",
            "The key cannot read some resources.",
            "Tick View (GET) for them in Advanced Parameters > Webservice.",
        ),
        (Lang::Fr, W::MissingPermissions) => (
            "Certaines données manqueront",
            "La clé ne peut pas lire certaines ressources ; les données qui en dépendent seront incomplètes ou absentes.",
            "Dans le back-office, ouvrez Paramètres avancés > Webservice, modifiez cette clé, cochez la colonne Voir (GET) pour ces ressources et enregistrez.",
        ),
        (Lang::En, W::OldVersion) => (
            "An old PrestaShop version",
            "PrestaShop is older than 8.0.",
            "Upgrade PrestaShop to 8 or later.",
        ),
        (Lang::Fr, W::OldVersion) => (
            "Une ancienne version de PrestaShop",
            "Cette version de PrestaShop est antérieure à 8.0 : elle ne reçoit plus de correctifs et chaque synchronisation relit davantage de données.",
            "La lecture fonctionne. Mettez PrestaShop à jour vers la version 8 ou plus récente (module 1-Click Upgrade ; la version figure dans Paramètres avancés > Informations).",
        ),
        (Lang::En, W::InsecureHttp) => (
            "The connection is not encrypted",
            "The shop is reached over http://.",
            "Use the https:// address of the shop.",
        ),
        (Lang::Fr, W::InsecureHttp) => (
            "La connexion n'est pas chiffrée",
            "La boutique est jointe en http:// : la clé Webservice et vos données circulent sans chiffrement.",
            "Utilisez l'adresse https:// de la boutique ; si elle n'a pas de certificat, demandez-en un à votre hébergeur (la plupart offrent un certificat Let's Encrypt gratuit).",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_come_from_accept_language_by_quality() {
        assert_eq!(
            Lang::from_accept_language("fr-FR,fr;q=0.9,en;q=0.8"),
            Some(Lang::Fr)
        );
        assert_eq!(
            Lang::from_accept_language("de-DE,en;q=0.5,fr;q=0.4"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("en;q=0.2, fr-CA;q=0.7"),
            Some(Lang::Fr)
        );
        assert_eq!(Lang::from_accept_language("de, es"), None);
    }

    #[test]
    fn query_and_cookie_choose_before_the_header() {
        let request = axum::http::Request::builder()
            .uri("/link/x?lang=fr")
            .header(header::ACCEPT_LANGUAGE, "en")
            .body(())
            .unwrap();
        assert_eq!(Lang::of_request(&request.into_parts().0), Lang::Fr);
        let request = axum::http::Request::builder()
            .uri("/link/x")
            .header(header::COOKIE, "lang=fr")
            .header(header::ACCEPT_LANGUAGE, "en")
            .body(())
            .unwrap();
        assert_eq!(Lang::of_request(&request.into_parts().0), Lang::Fr);
        let request = axum::http::Request::builder()
            .uri("/link/x")
            .header(header::ACCEPT_LANGUAGE, "de")
            .body(())
            .unwrap();
        assert_eq!(Lang::of_request(&request.into_parts().0), Lang::En);
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            fill(EN.link.continue_to, &[("client", "Lendy")]),
            "Continue to Lendy"
        );
        assert!(!FR.link.redirect_question.contains("{from}"));
    }
}
