//! Compiles parsed queries and orderBy clauses to parameterized SQL over the stored JSON, for
//! SQLite (`json_extract`/`json_type`) and PostgreSQL (`#>`/`#>>` on JSONB).
//!
//! Values are always bound parameters. Field paths are inlined, which is safe because a
//! [`FieldPath`] segment can only hold `[A-Za-z0-9_]`.
//!
//! Semantics, the same on both engines:
//! - A quoted or non-numeric bare value compares with JSON strings, byte-wise (PostgreSQL uses
//!   `COLLATE "C"` to match SQLite's BINARY). ISO 8601 timestamps therefore compare correctly
//!   as strings only when they have the same offset and precision; prestalink writes
//!   `modifiedDate` always as UTC `…mmmZ`, and `sourceModifiedDate` in the shop's own offset,
//!   so a comparison with a different offset or without milliseconds is approximate at the
//!   boundary.
//! - A bare number compares numerically with JSON numbers and with strings that hold a decimal
//!   number (amounts serialized as strings); `=` also matches the exact string.
//! - `true`/`false` match JSON booleans; `null` matches a missing field or JSON null.
//! - `~` is "contains", case-insensitive for ASCII letters (SQLite's LIKE; PostgreSQL's ILIKE
//!   also folds non-ASCII letters, the one difference between the engines).
//! - `!=` is the negation of `=`: a record without the field is "not equal".

use super::parse::{Condition, Direction, Expr, FieldPath, Literal, Operator, OrderBy, QueryError};

/// The SQL dialect to compile for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3.38+ with the JSON functions.
    Sqlite,
    /// PostgreSQL 12+ with JSONB.
    Postgres,
}

/// A value bound to a placeholder of the compiled SQL.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlParam {
    /// Bound as text.
    Text(String),
    /// A decimal number: bound as a float on SQLite, as text cast to `numeric` on PostgreSQL.
    Number(String),
}

/// SQL text with `$n` placeholders (accepted by both engines) and the values to bind in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CompiledSql {
    /// The SQL fragment.
    pub sql: String,
    /// Values for `$first_param`, `$first_param + 1`, ….
    pub params: Vec<SqlParam>,
}

/// Columns that stand for record fields: faster (indexed) and set by the store itself.
fn column_for(field: &FieldPath) -> Option<&'static str> {
    match field.segments() {
        [one] if one == "id" => Some("id"),
        [one] if one == "modifiedDate" => Some("modified_date"),
        _ => None,
    }
}

/// SQL expressions for one field: its JSON type, its string value, its numeric value.
struct FieldSql {
    dialect: Dialect,
    /// The value as text when it is a JSON string, else NULL.
    text: String,
    /// The value as a number when it is a JSON number or a string holding a decimal, else NULL.
    number: String,
    /// Whether the field is missing or JSON null.
    is_null: String,
    /// Whether the field is JSON `true` (`Some`) — `None` for columns, which are never booleans.
    is_true: Option<String>,
    is_false: Option<String>,
}

const SQLITE_DECIMAL_TEXT: &str =
    "{v} <> '' AND {v} NOT GLOB '*[^0-9.+-]*' AND {v} GLOB '*[0-9]*' \
     AND {v} NOT GLOB '*.*.*' AND {v} NOT GLOB '?*[+-]*'";
const POSTGRES_DECIMAL_RE: &str = "'^[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)$'";

impl FieldSql {
    fn new(field: &FieldPath, dialect: Dialect) -> Self {
        if let Some(column) = column_for(field) {
            let number = match dialect {
                Dialect::Sqlite => format!(
                    "CASE WHEN {} THEN CAST({column} AS REAL) END",
                    SQLITE_DECIMAL_TEXT.replace("{v}", column)
                ),
                Dialect::Postgres => format!(
                    "CASE WHEN {column} ~ {POSTGRES_DECIMAL_RE} THEN CAST({column} AS numeric) END"
                ),
            };
            let text = match dialect {
                Dialect::Sqlite => column.to_string(),
                Dialect::Postgres => format!("({column} COLLATE \"C\")"),
            };
            return FieldSql {
                dialect,
                text,
                number,
                is_null: format!("{column} IS NULL"),
                is_true: None,
                is_false: None,
            };
        }
        match dialect {
            Dialect::Sqlite => {
                let path = format!(
                    "'${}'",
                    field
                        .segments()
                        .iter()
                        .map(|s| format!(".\"{s}\""))
                        .collect::<String>()
                );
                let kind = format!("json_type(data, {path})");
                let value = format!("json_extract(data, {path})");
                FieldSql {
                    dialect,
                    text: format!("CASE WHEN {kind} = 'text' THEN {value} END"),
                    number: format!(
                        "CASE WHEN {kind} IN ('integer', 'real') THEN {value} \
                         WHEN {kind} = 'text' AND {} THEN CAST({value} AS REAL) END",
                        SQLITE_DECIMAL_TEXT.replace("{v}", &value)
                    ),
                    is_null: format!("({kind} IS NULL OR {kind} = 'null')"),
                    is_true: Some(format!("{kind} = 'true'")),
                    is_false: Some(format!("{kind} = 'false'")),
                }
            }
            Dialect::Postgres => {
                let path = format!("'{{{}}}'", field.segments().join(","));
                let json = format!("(data #> {path})");
                let value = format!("(data #>> {path})");
                let kind = format!("jsonb_typeof{json}");
                FieldSql {
                    dialect,
                    text: format!("(CASE WHEN {kind} = 'string' THEN {value} END COLLATE \"C\")"),
                    number: format!(
                        "CASE WHEN {kind} = 'number' THEN CAST({value} AS numeric) \
                         WHEN {kind} = 'string' AND {value} ~ {POSTGRES_DECIMAL_RE} \
                         THEN CAST({value} AS numeric) END"
                    ),
                    is_null: format!("({json} IS NULL OR {kind} = 'null')"),
                    is_true: Some(format!("{json} = 'true'::jsonb")),
                    is_false: Some(format!("{json} = 'false'::jsonb")),
                }
            }
        }
    }

    fn number_param(&self, placeholder: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => placeholder.to_string(),
            Dialect::Postgres => format!("CAST({placeholder} AS numeric)"),
        }
    }
}

/// Compiles a parsed query to a boolean SQL expression whose placeholders start at
/// `$first_param`.
pub fn compile_filter(
    expr: &Expr,
    dialect: Dialect,
    first_param: usize,
) -> Result<CompiledSql, QueryError> {
    let mut out = CompiledSql::default();
    let mut compiler = Compiler {
        dialect,
        next: first_param,
        out: &mut out,
    };
    let sql = compiler.expr(expr)?;
    out.sql = sql;
    Ok(out)
}

struct Compiler<'a> {
    dialect: Dialect,
    next: usize,
    out: &'a mut CompiledSql,
}

impl Compiler<'_> {
    fn bind(&mut self, param: SqlParam) -> String {
        let placeholder = format!("${}", self.next);
        self.next += 1;
        self.out.params.push(param);
        placeholder
    }

    fn expr(&mut self, expr: &Expr) -> Result<String, QueryError> {
        match expr {
            Expr::And(terms) => self.join(terms, " AND "),
            Expr::Or(terms) => self.join(terms, " OR "),
            Expr::Condition(condition) => self.condition(condition),
        }
    }

    fn join(&mut self, terms: &[Expr], separator: &str) -> Result<String, QueryError> {
        let parts = terms
            .iter()
            .map(|t| self.expr(t))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(format!("({})", parts.join(separator)))
    }

    fn condition(&mut self, condition: &Condition) -> Result<String, QueryError> {
        let field = FieldSql::new(&condition.field, self.dialect);
        let op = condition.operator;
        match op {
            Operator::Contains => {
                let pattern = format!("%{}%", escape_like(&condition.value.as_text()));
                let p = self.bind(SqlParam::Text(pattern));
                let like = match self.dialect {
                    Dialect::Sqlite => "LIKE",
                    Dialect::Postgres => "ILIKE",
                };
                Ok(format!("({} {like} {p} ESCAPE '\\')", field.text))
            }
            Operator::Equal => self.equal(&field, condition),
            Operator::NotEqual => {
                let equal = self.equal(&field, condition)?;
                Ok(format!("(NOT COALESCE({equal}, FALSE))"))
            }
            Operator::Greater
            | Operator::Less
            | Operator::GreaterOrEqual
            | Operator::LessOrEqual => {
                let symbol = op.symbol();
                match &condition.value {
                    Literal::Text(s) => {
                        let p = self.bind(SqlParam::Text(s.clone()));
                        Ok(format!("({} {symbol} {p})", field.text))
                    }
                    Literal::Number(n) => {
                        let p = self.bind(SqlParam::Number(n.clone()));
                        Ok(format!(
                            "({} {symbol} {})",
                            field.number,
                            field.number_param(&p)
                        ))
                    }
                    Literal::Bool(_) | Literal::Null => Err(QueryError {
                        position: condition.operator_position,
                        found: format!("operator '{symbol}'"),
                        expected: format!(
                            "'=' or '!=' to compare {} with {}",
                            condition.field,
                            condition.value.as_text()
                        ),
                    }),
                }
            }
        }
    }

    fn equal(&mut self, field: &FieldSql, condition: &Condition) -> Result<String, QueryError> {
        Ok(match &condition.value {
            Literal::Text(s) => {
                let p = self.bind(SqlParam::Text(s.clone()));
                format!("({} = {p})", field.text)
            }
            Literal::Number(n) => {
                let pn = self.bind(SqlParam::Number(n.clone()));
                let pt = self.bind(SqlParam::Text(n.clone()));
                format!(
                    "({} = {} OR {} = {pt})",
                    field.number,
                    field.number_param(&pn),
                    field.text
                )
            }
            Literal::Bool(b) => {
                let test = if *b { &field.is_true } else { &field.is_false };
                match test {
                    Some(test) => format!("({test})"),
                    None => "(FALSE)".to_string(),
                }
            }
            Literal::Null => format!("({})", field.is_null),
        })
    }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Compiles an orderBy to SQL sort keys. Ascending, a field sorts missing values first, then
/// booleans (false before true), then strings byte-wise, then numbers numerically (including
/// strings holding decimals); descending is the exact reverse. `id` sorts by length, then
/// byte-wise (numeric ids in numeric order), and `modifiedDate` byte-wise, both through
/// indexes. A natural order of `id` always ends the list so that
/// paging is stable.
pub fn compile_order_by(order: Option<&OrderBy>, dialect: Dialect) -> String {
    let mut keys = Vec::new();
    let id = FieldPath::id();
    let mut fields: Vec<(&FieldPath, Direction)> = order
        .map(|o| o.fields().iter().map(|(f, d)| (f, *d)).collect())
        .unwrap_or_default();
    fields.push((&id, Direction::Ascending));
    for (field, direction) in fields {
        // Columns are plain text, never null: sorted so that an index serves the order.
        if let Some(column) = column_for(field) {
            let dir = match direction {
                Direction::Ascending => "ASC",
                Direction::Descending => "DESC",
            };
            let collate = match dialect {
                Dialect::Sqlite => "",
                Dialect::Postgres => " COLLATE \"C\"",
            };
            if column == "id" {
                keys.push(format!("length(id) {dir}"));
            }
            keys.push(format!("{column}{collate} {dir}"));
            continue;
        }
        let sql = FieldSql::new(field, dialect);
        let suffix = match direction {
            Direction::Ascending => "ASC NULLS FIRST",
            Direction::Descending => "DESC NULLS LAST",
        };
        keys.push(format!("{} {suffix}", sql.number));
        keys.push(format!("{} {suffix}", sql.text));
        // Booleans sort false before true; they have neither a number nor a text key.
        if let (Some(is_true), Some(is_false)) = (&sql.is_true, &sql.is_false) {
            keys.push(format!(
                "CASE WHEN {is_true} THEN 1 WHEN {is_false} THEN 0 END {suffix}"
            ));
        }
    }
    keys.join(", ")
}

#[cfg(test)]
mod tests {
    use super::super::parse::QueryExpr;
    use super::*;

    fn compile(q: &str, dialect: Dialect) -> CompiledSql {
        compile_filter(QueryExpr::parse(q).unwrap().expr(), dialect, 3).unwrap()
    }

    #[test]
    fn values_are_bound_never_inlined() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let c = compile("name='x\\' OR 1=1 --'&&total>5", dialect);
            assert!(!c.sql.contains("OR 1=1"), "{}", c.sql);
            assert_eq!(c.params[0], SqlParam::Text("x' OR 1=1 --".into()));
            assert_eq!(c.params[1], SqlParam::Number("5".into()));
            assert!(c.sql.contains("$3") && c.sql.contains("$4"), "{}", c.sql);
        }
    }

    #[test]
    fn dot_paths_become_json_paths() {
        let c = compile("customerRef.id=7", Dialect::Sqlite);
        assert!(
            c.sql
                .contains("json_extract(data, '$.\"customerRef\".\"id\"')"),
            "{}",
            c.sql
        );
        let c = compile("customerRef.id=7", Dialect::Postgres);
        assert!(c.sql.contains("data #>> '{customerRef,id}'"), "{}", c.sql);
        let c = compile("modifiedDate>2024", Dialect::Postgres);
        assert!(c.sql.contains("modified_date"), "{}", c.sql);
    }

    #[test]
    fn like_patterns_are_escaped() {
        let c = compile("name~50%_off\\", Dialect::Sqlite);
        assert_eq!(c.params, vec![SqlParam::Text("%50\\%\\_off\\\\%".into())]);
    }

    #[test]
    fn ordering_a_boolean_is_refused_at_the_operator() {
        let q = QueryExpr::parse("isGiftCard > true").unwrap();
        let err = compile_filter(q.expr(), Dialect::Sqlite, 1).unwrap_err();
        assert_eq!(err.position, 12);
    }
}
