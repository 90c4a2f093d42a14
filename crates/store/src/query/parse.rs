//! Parser of the Codat query language: `field op value` conditions joined by `&&` and `||`
//! (`&&` binds tighter), grouped with `{ }`, fields as dot paths (`customerRef.id`).
//!
//! Positions in errors are 1-based character positions in the query text.

use std::fmt;

/// A query that failed to parse, with the 1-based character position of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{found} at position {position}: {expected}")]
pub struct QueryError {
    /// 1-based character position in the query (or in the orderBy text).
    pub position: usize,
    /// What was found there, e.g. `unexpected '&'` or `unexpected end of query`.
    pub found: String,
    /// What would have been valid there, e.g. `expected a field name`.
    pub expected: String,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `~` (contains, case-insensitive for ASCII letters)
    Contains,
    /// `>`
    Greater,
    /// `<`
    Less,
    /// `>=`
    GreaterOrEqual,
    /// `<=`
    LessOrEqual,
}

impl Operator {
    /// The operator as written in a query.
    pub fn symbol(self) -> &'static str {
        match self {
            Operator::Equal => "=",
            Operator::NotEqual => "!=",
            Operator::Contains => "~",
            Operator::Greater => ">",
            Operator::Less => "<",
            Operator::GreaterOrEqual => ">=",
            Operator::LessOrEqual => "<=",
        }
    }
}

/// A value on the right of an operator.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A quoted value, or a bare one that is not a number, boolean or `null`.
    Text(String),
    /// A bare decimal number (`12`, `-3.5`), kept as written.
    Number(String),
    /// Bare `true` or `false`.
    Bool(bool),
    /// Bare `null`: the field is missing or JSON null.
    Null,
}

impl Literal {
    /// The value as text (what `~` searches for).
    pub fn as_text(&self) -> String {
        match self {
            Literal::Text(s) | Literal::Number(s) => s.clone(),
            Literal::Bool(b) => b.to_string(),
            Literal::Null => "null".to_string(),
        }
    }
}

/// A field as a dot path into the record's JSON; each segment is `[A-Za-z0-9_]+`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    segments: Vec<String>,
}

impl FieldPath {
    /// The record's `id`.
    pub(crate) fn id() -> Self {
        FieldPath {
            segments: vec!["id".to_string()],
        }
    }

    /// The path's segments, e.g. `["customerRef", "id"]`.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segments.join("."))
    }
}

/// One `field op value` condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The field compared.
    pub field: FieldPath,
    /// The comparison.
    pub operator: Operator,
    /// The value compared with.
    pub value: Literal,
    /// 1-based position of the operator (for errors found while compiling).
    pub operator_position: usize,
}

/// A parsed query expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// All must hold.
    And(Vec<Expr>),
    /// At least one must hold.
    Or(Vec<Expr>),
    /// A single comparison.
    Condition(Condition),
}

/// A valid query: only [`QueryExpr::parse`] makes one.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryExpr {
    expr: Expr,
}

impl QueryExpr {
    /// Parses a query such as `status=Paid&&{totalAmount>100||customerRef.id=7}`.
    pub fn parse(text: &str) -> Result<Self, QueryError> {
        // Neither engine can store or compare NUL in text: refuse it rather than fail in SQL.
        if let Some(i) = text.chars().position(|c| c == '\0') {
            return Err(QueryError {
                position: i + 1,
                found: "unexpected NUL character".to_string(),
                expected: "expected printable text".to_string(),
            });
        }
        let mut parser = Parser::new(text);
        parser.skip_ws();
        if parser.at_end() {
            return Err(parser.error("expected a condition such as `status=Paid`"));
        }
        let expr = parser.or_expr(0)?;
        parser.skip_ws();
        if !parser.at_end() {
            return Err(parser.error("expected '&&', '||' or the end of the query"));
        }
        Ok(QueryExpr { expr })
    }

    /// The expression tree.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }
}

/// Direction of one orderBy field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Smallest first.
    Ascending,
    /// Largest first (written with a leading `-`).
    Descending,
}

/// A parsed `orderBy`: one or more comma-separated fields, `-` for descending.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    fields: Vec<(FieldPath, Direction)>,
}

impl OrderBy {
    /// Parses `-modifiedDate` or `customerRef.id,-totalAmount`.
    pub fn parse(text: &str) -> Result<Self, QueryError> {
        let mut parser = Parser::new(text);
        let mut fields = Vec::new();
        loop {
            parser.skip_ws();
            let direction = if parser.eat("-") {
                Direction::Descending
            } else {
                Direction::Ascending
            };
            let field = parser.field()?;
            fields.push((field, direction));
            parser.skip_ws();
            if parser.at_end() {
                return Ok(OrderBy { fields });
            }
            if !parser.eat(",") {
                return Err(parser.error("expected ',' or the end of orderBy"));
            }
        }
    }

    /// The fields in order of precedence.
    pub fn fields(&self) -> &[(FieldPath, Direction)] {
        &self.fields
    }
}

/// Deepest `{ }` nesting accepted; deeper queries are refused rather than overflow the stack.
const MAX_DEPTH: usize = 32;

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn new(text: &str) -> Self {
        Parser {
            chars: text.chars().collect(),
            pos: 0,
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn starts_with(&self, token: &str) -> bool {
        token
            .chars()
            .enumerate()
            .all(|(i, c)| self.chars.get(self.pos + i) == Some(&c))
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.starts_with(token) {
            self.pos += token.chars().count();
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn error(&self, expected: &str) -> QueryError {
        self.error_at(self.pos, expected)
    }

    fn error_at(&self, pos: usize, expected: &str) -> QueryError {
        let found = match self.chars.get(pos) {
            Some(c) => format!("unexpected '{c}'"),
            None => "unexpected end of query".to_string(),
        };
        QueryError {
            position: pos + 1,
            found,
            expected: expected.to_string(),
        }
    }

    fn or_expr(&mut self, depth: usize) -> Result<Expr, QueryError> {
        let mut terms = vec![self.and_expr(depth)?];
        loop {
            self.skip_ws();
            if !self.eat("||") {
                break;
            }
            terms.push(self.and_expr(depth)?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().expect("one term")
        } else {
            Expr::Or(terms)
        })
    }

    fn and_expr(&mut self, depth: usize) -> Result<Expr, QueryError> {
        let mut terms = vec![self.primary(depth)?];
        loop {
            self.skip_ws();
            if !self.eat("&&") {
                break;
            }
            terms.push(self.primary(depth)?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().expect("one term")
        } else {
            Expr::And(terms)
        })
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, QueryError> {
        self.skip_ws();
        if self.peek() == Some('{') {
            let open = self.pos;
            if depth >= MAX_DEPTH {
                return Err(self.error("groups nested too deeply (at most 32 levels)"));
            }
            self.pos += 1;
            let inner = self.or_expr(depth + 1)?;
            self.skip_ws();
            if !self.eat("}") {
                return Err(self.error(&format!(
                    "expected '}}' to close the '{{' at position {}",
                    open + 1
                )));
            }
            return Ok(inner);
        }
        self.condition().map(Expr::Condition)
    }

    fn field(&mut self) -> Result<FieldPath, QueryError> {
        let mut segments = Vec::new();
        loop {
            let start = self.pos;
            while self
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                self.pos += 1;
            }
            if self.pos == start {
                return Err(self.error(if segments.is_empty() {
                    "expected a field name"
                } else {
                    "expected a field name after '.'"
                }));
            }
            segments.push(self.chars[start..self.pos].iter().collect());
            if !self.eat(".") {
                return Ok(FieldPath { segments });
            }
        }
    }

    fn operator(&mut self) -> Result<Operator, QueryError> {
        const OPERATORS: [(&str, Operator); 7] = [
            ("!=", Operator::NotEqual),
            (">=", Operator::GreaterOrEqual),
            ("<=", Operator::LessOrEqual),
            ("=", Operator::Equal),
            ("~", Operator::Contains),
            (">", Operator::Greater),
            ("<", Operator::Less),
        ];
        for (token, operator) in OPERATORS {
            if self.eat(token) {
                return Ok(operator);
            }
        }
        Err(self.error("expected an operator (=, !=, ~, >, <, >=, <=)"))
    }

    fn condition(&mut self) -> Result<Condition, QueryError> {
        let field = self.field()?;
        self.skip_ws();
        let operator_position = self.pos + 1;
        let operator = self.operator()?;
        self.skip_ws();
        let value = self.value()?;
        Ok(Condition {
            field,
            operator,
            value,
            operator_position,
        })
    }

    fn value(&mut self) -> Result<Literal, QueryError> {
        match self.peek() {
            Some(quote @ ('"' | '\'')) => self.quoted(quote),
            _ => self.bare(),
        }
    }

    fn quoted(&mut self, quote: char) -> Result<Literal, QueryError> {
        let open = self.pos;
        self.pos += 1;
        let mut text = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(QueryError {
                        position: open + 1,
                        found: format!("unclosed quote {quote}"),
                        expected: format!("a closing {quote} before the end of the query"),
                    })
                }
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c) => text.push(c),
                        None => return Err(self.error("expected a character after '\\'")),
                    }
                    self.pos += 1;
                }
                Some(c) if c == quote => {
                    self.pos += 1;
                    return Ok(Literal::Text(text));
                }
                Some(c) => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// A bare value runs to `&&`, `||`, `}` or the end; surrounding spaces are trimmed.
    fn bare(&mut self) -> Result<Literal, QueryError> {
        let start = self.pos;
        while !self.at_end() && !self.starts_with("&&") && !self.starts_with("||") {
            if self.peek() == Some('}') {
                break;
            }
            self.pos += 1;
        }
        let raw: String = self.chars[start..self.pos].iter().collect();
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(self.error_at(start, "expected a value"));
        }
        Ok(classify_bare(raw))
    }
}

fn classify_bare(raw: &str) -> Literal {
    match raw {
        "true" => Literal::Bool(true),
        "false" => Literal::Bool(false),
        "null" => Literal::Null,
        _ if is_decimal(raw) => Literal::Number(raw.to_string()),
        _ => Literal::Text(raw.to_string()),
    }
}

/// `[+-]?([0-9]+.?[0-9]*|.[0-9]+)`: the same numbers the SQL side accepts in strings.
pub(crate) fn is_decimal(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    all_digits(int)
        && frac.iter().all(|f| all_digits(f))
        && (!int.is_empty() || frac.is_some_and(|f| !f.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(field: &str, operator: Operator, value: Literal) -> Expr {
        Expr::Condition(Condition {
            field: FieldPath {
                segments: field.split('.').map(str::to_string).collect(),
            },
            operator,
            value,
            operator_position: 0,
        })
    }

    fn strip_positions(expr: &Expr) -> Expr {
        match expr {
            Expr::And(v) => Expr::And(v.iter().map(strip_positions).collect()),
            Expr::Or(v) => Expr::Or(v.iter().map(strip_positions).collect()),
            Expr::Condition(c) => Expr::Condition(Condition {
                operator_position: 0,
                ..c.clone()
            }),
        }
    }

    fn parse(text: &str) -> Expr {
        strip_positions(QueryExpr::parse(text).unwrap().expr())
    }

    #[test]
    fn and_binds_tighter_than_or() {
        assert_eq!(
            parse("a=1||b=x&&c.d!=true"),
            Expr::Or(vec![
                cond("a", Operator::Equal, Literal::Number("1".into())),
                Expr::And(vec![
                    cond("b", Operator::Equal, Literal::Text("x".into())),
                    cond("c.d", Operator::NotEqual, Literal::Bool(true)),
                ]),
            ])
        );
    }

    #[test]
    fn groups_quotes_and_bare_values_with_spaces() {
        assert_eq!(
            parse("{ name ~ 'O\\'Brien' || name = John Smith } && amount>=-2.5"),
            Expr::And(vec![
                Expr::Or(vec![
                    cond("name", Operator::Contains, Literal::Text("O'Brien".into())),
                    cond("name", Operator::Equal, Literal::Text("John Smith".into())),
                ]),
                cond(
                    "amount",
                    Operator::GreaterOrEqual,
                    Literal::Number("-2.5".into())
                ),
            ])
        );
        assert_eq!(
            parse("modifiedDate>2024-01-01T00:00:00Z"),
            cond(
                "modifiedDate",
                Operator::Greater,
                Literal::Text("2024-01-01T00:00:00Z".into())
            )
        );
        assert_eq!(
            parse("note=null"),
            cond("note", Operator::Equal, Literal::Null)
        );
    }

    #[test]
    fn errors_name_the_position() {
        let err = QueryExpr::parse("status=Paid && && x=1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unexpected '&' at position 16: expected a field name"
        );
        let err = QueryExpr::parse("status Paid").unwrap_err();
        assert_eq!(err.position, 8);
        assert!(err.expected.contains("operator"), "{err}");
        let err = QueryExpr::parse("{a=1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unexpected end of query at position 5: expected '}' to close the '{' at position 1"
        );
        let err = QueryExpr::parse("a=1}").unwrap_err();
        assert_eq!(err.position, 4);
        let err = QueryExpr::parse("a='open").unwrap_err();
        assert_eq!(err.position, 3);
        let err = QueryExpr::parse("a.=1").unwrap_err();
        assert_eq!(err.position, 3);
        assert!(QueryExpr::parse("a=").is_err());
        assert!(QueryExpr::parse("   ").is_err());
        assert_eq!(QueryExpr::parse("a='x\0'").unwrap_err().position, 5);
        let deep = format!("{}a=1{}", "{".repeat(40), "}".repeat(40));
        assert!(QueryExpr::parse(&deep)
            .unwrap_err()
            .expected
            .contains("nested"));
    }

    #[test]
    fn order_by_lists() {
        let order = OrderBy::parse("-modifiedDate, customerRef.id").unwrap();
        assert_eq!(order.fields().len(), 2);
        assert_eq!(order.fields()[0].1, Direction::Descending);
        assert_eq!(order.fields()[1].0.to_string(), "customerRef.id");
        assert_eq!(OrderBy::parse("a,,b").unwrap_err().position, 3);
        assert_eq!(OrderBy::parse("a b").unwrap_err().position, 3);
    }

    #[test]
    fn decimals() {
        for yes in ["1", "-1", "+1.5", "1.", ".5", "007"] {
            assert!(is_decimal(yes), "{yes}");
        }
        for no in ["", ".", "-", "1.2.3", "1e5", "1-2", "abc", "+-1"] {
            assert!(!is_decimal(no), "{no}");
        }
    }
}
