//! Deliberate real-data mess: text that breaks naive XML and JSON handling (control
//! characters, a nested CDATA end, markup characters, emoji, right-to-left scripts) and
//! product references that are empty or duplicated.

/// Vertical tab: invalid in XML 1.0, found in pasted product descriptions.
pub const VERTICAL_TAB: &str = "\u{0b}";
/// Start of heading: invalid in XML 1.0.
pub const START_OF_HEADING: &str = "\u{01}";
/// Unit separator: invalid in XML 1.0.
pub const UNIT_SEPARATOR: &str = "\u{1f}";
/// Ends a CDATA section early if not split.
pub const CDATA_END: &str = "]]>";
/// Emoji outside the Basic Multilingual Plane (4-byte UTF-8, surrogate pairs in JSON).
pub const EMOJI: &str = "🎁";
/// Arabic (right-to-left) text.
pub const RTL: &str = "كوب قهوة";

/// Every piece of nasty text, in one description.
pub fn everything() -> String {
    format!(
        "<p>Care{VERTICAL_TAB}instructions: wash cold.{START_OF_HEADING} Fits [[size]]{CDATA_END} \
         Tom & Jerry <3 {EMOJI} {RTL} ספל{UNIT_SEPARATOR}</p>"
    )
}

/// Product ids (1-based positions among `count` products) that carry deliberate mess.
fn messy_positions(count: u64) -> [u64; 6] {
    let at = |k: u64| (k - 1) % count.max(1) + 1;
    [at(3), at(5), at(7), at(9), at(11), at(13)]
}

/// True for a product whose texts were made messy (it is never deleted, so the mess stays).
pub fn is_messy_product(id: u64, count: u64) -> bool {
    messy_positions(count).contains(&id)
}

/// Adds mess to some products' names and descriptions.
pub fn product_text(
    id: u64,
    count: u64,
    name: &mut String,
    description: &mut String,
    short: &mut String,
) {
    let p = messy_positions(count);
    if id == p[0] {
        *description = everything();
    }
    if id == p[1] {
        name.push_str(" & <limited> edition");
    }
    if id == p[2] {
        name.push(' ');
        name.push_str(EMOJI);
        name.push(' ');
        name.push_str(RTL);
    }
    if id == p[3] {
        name.push_str(START_OF_HEADING);
        short.push_str(VERTICAL_TAB);
    }
    if id == p[4] {
        short.push_str(UNIT_SEPARATOR);
        description.push_str(CDATA_END);
    }
    if id == p[5] {
        name.push_str(" ]]> (\"quoted\")");
    }
}

/// Product reference: `demo_<id>`, except empty ones (2 and every 17th) and duplicates
/// (4 reuses 3's reference, every 23rd reuses its predecessor's).
pub fn product_reference(id: u64) -> String {
    if id == 2 || id.is_multiple_of(17) {
        String::new()
    } else if id == 4 || id.is_multiple_of(23) {
        format!("demo_{}", id - 1)
    } else {
        format!("demo_{id}")
    }
}

/// Messy text for the n-th order note / address / customer note, cycling through kinds.
pub fn note(n: u64) -> String {
    match n % 6 {
        0 => format!("Leave at door{VERTICAL_TAB}code 1234"),
        1 => format!("Gift {EMOJI} for mum"),
        2 => "Fragile: glass & <b>ceramic</b>".to_string(),
        3 => format!("{RTL} - please call"),
        4 => format!("See note ]]> here{START_OF_HEADING}"),
        _ => format!("Floor 3{UNIT_SEPARATOR}left"),
    }
}
