//! Plain aligned text tables for the reports (first column left, the others right).

/// `rows` under `header`, columns two spaces apart: [`crate::plain_table`] (comfy-table)
/// with every column but the first aligned right.
pub fn text_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let numeric: Vec<usize> = (1..header.len()).collect();
    let mut table = crate::plain_table(header, &numeric);
    for row in rows {
        table.add_row(row.clone());
    }
    table.trim_fmt() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns() {
        let t = text_table(
            &["what", "n"],
            &[
                vec!["a".into(), "1".into()],
                vec!["longer".into(), "100".into()],
            ],
        );
        assert_eq!(t, "what      n\na         1\nlonger  100\n");
    }
}
