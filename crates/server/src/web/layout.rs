//! The shell every page shares: document language, skip link, landmarks (banner, navigation,
//! main, contentinfo), the language switch and the built-in stylesheet.

use maud::{html, Markup, DOCTYPE};

use super::assets;
use super::i18n::Lang;

/// One link of the main navigation.
pub struct NavItem<'a> {
    /// Where it leads.
    pub href: &'a str,
    /// What it says.
    pub label: &'a str,
    /// Whether it is the page being shown (`aria-current="page"`).
    pub current: bool,
}

/// A whole page: `title` (also the `<h1>` is the body's business), `nav` links (none on
/// pages for merchants), and `body` inside `<main>`.
pub fn page(lang: Lang, title: &str, nav: &[NavItem], body: Markup) -> Markup {
    let t = &lang.t().common;
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="same-origin";
                title { (title) " · prestalink" }
                link rel="stylesheet" href=(assets::url("app.css"));
            }
            body {
                a class="skip-link" href="#main" { (t.skip_link) }
                header class="site-header" {
                    div class="wrap header-row" {
                        span class="brand" { "prestalink" }
                        @if !nav.is_empty() {
                            nav class="main-nav" aria-label=(t.nav_label) {
                                ul {
                                    @for item in nav {
                                        li {
                                            a href=(item.href) aria-current=[item.current.then_some("page")] { (item.label) }
                                        }
                                    }
                                }
                            }
                        }
                        (language_switch(lang))
                    }
                }
                main id="main" tabindex="-1" {
                    div class="wrap" { (body) }
                }
                footer class="site-footer" {
                    div class="wrap" { p { (t.footer) } }
                }
            }
        }
    }
}

/// Links to the same page in each language (`?lang=fr`, which also sets the cookie).
fn language_switch(lang: Lang) -> Markup {
    html! {
        nav class="lang-switch" aria-label=(lang.t().common.language) {
            ul {
                @for other in Lang::ALL {
                    li {
                        @if other == lang {
                            a href={ "?lang=" (other.code()) } lang=(other.code()) hreflang=(other.code()) aria-current="true" { (other.name()) }
                        } @else {
                            a href={ "?lang=" (other.code()) } lang=(other.code()) hreflang=(other.code()) { (other.name()) }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shell_has_language_landmarks_and_escapes() {
        let markup = page(
            Lang::Fr,
            "<script>",
            &[NavItem {
                href: "/dashboard",
                label: "Tableau",
                current: true,
            }],
            html! { h1 { "x" } },
        )
        .into_string();
        assert!(markup.contains(r#"<html lang="fr">"#), "{markup}");
        assert!(markup
            .contains(r##"<a class="skip-link" href="#main">Aller au contenu principal</a>"##));
        assert!(markup.contains(r#"<main id="main""#));
        assert!(markup.contains(r#"aria-current="page""#));
        assert!(markup.contains("&lt;script&gt;"));
        assert!(!markup.contains("<script>"));
    }
}
