//! Normalisation of SQL fragments (type names, expressions) shared by every source, and
//! the token-level reading of SQL text used by the `pg_dump` and DDL-file sources.
//!
//! The file sources work on tokens rather than on a full SQL AST: a schema model needs the
//! exact source text of defaults and generation expressions (which an AST re-prints in its
//! own way) and must survive statements no SQL parser accepts (`ALTER SEQUENCE … OWNED
//! BY`, psql meta-commands). `sqlparser`'s tokenizer does the lexing (strings, dollar
//! quotes, comments, quoted identifiers); the grammar we need is small enough to read by
//! hand with [`Cursor`].

use crate::ident::quote_literal;
use crate::model::QualifiedName;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token as SqlToken, Tokenizer};

/// Normalises a SQL expression (a column default or generation expression) so that the
/// same expression from different sources compares equal: surrounding whitespace is
/// removed and every run of whitespace outside string literals and quoted identifiers
/// becomes one space.
pub fn normalize_expr(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut quote: Option<char> = None;
    let mut pending_space = false;
    for c in expr.trim().chars() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    // A doubled quote closes and immediately reopens: same state either way.
                    quote = None;
                }
            }
            None if c.is_whitespace() => pending_space = true,
            None => {
                if pending_space {
                    out.push(' ');
                    pending_space = false;
                }
                if c == '\'' || c == '"' {
                    quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    out
}

/// A problem found while reading SQL text, at a 1-based line and column of that text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// What a [`Token`] is, reduced to what the schema readers distinguish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// An identifier or keyword. Unquoted words are folded to lower case like PostgreSQL
    /// folds them (ASCII only); quoted ones keep their exact text.
    Word {
        /// The (folded or unquoted) name.
        value: String,
        /// Whether the word was written in double quotes.
        quoted: bool,
    },
    /// A string literal, unescaped.
    String(String),
    /// A number literal as written.
    Number(String),
    /// `,`
    Comma,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `.`
    Period,
    /// `;`
    Semicolon,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `::`
    DoubleColon,
    /// Any other token (operators, other literals).
    Other,
}

/// One token with its place in the source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset just past the last character.
    pub end: usize,
    /// 1-based line of the first character.
    pub line: usize,
    /// 1-based column (in characters) of the first character.
    pub column: usize,
}

impl Token {
    /// Whether this is the unquoted keyword `kw` (given in lower case).
    pub fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.kind, TokenKind::Word { value, quoted: false } if value == kw)
    }
}

/// Maps the tokenizer's line/column locations back to byte offsets.
struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
    /// The last location mapped, `(line, column, offset)`: tokens come in text order, so
    /// the next location is found by walking on from it, not from the start of its line
    /// (which made a long line cost time quadratic in its length).
    last: (u64, u64, usize),
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            text,
            starts,
            last: (0, 0, 0),
        }
    }

    fn offset(&mut self, line: u64, column: u64) -> usize {
        let Some(&start) = self.starts.get((line as usize).saturating_sub(1)) else {
            return self.text.len();
        };
        let (last_line, last_column, last_offset) = self.last;
        let (from_column, from) = if last_line == line && 1 <= last_column && last_column <= column
        {
            (last_column, last_offset)
        } else {
            (1, start)
        };
        let offset = self.text[from..]
            .char_indices()
            .nth(column.saturating_sub(from_column) as usize)
            .map_or(self.text.len(), |(i, _)| from + i);
        self.last = (line, column, offset);
        offset
    }
}

/// Splits `text` into tokens, leaving out whitespace and comments.
pub fn tokenize(text: &str) -> Result<Vec<Token>, Problem> {
    let dialect = PostgreSqlDialect {};
    let spanned = Tokenizer::new(&dialect, text)
        .tokenize_with_location()
        .map_err(|e| Problem {
            line: e.location.line as usize,
            column: e.location.column as usize,
            message: e.message,
        })?;
    let mut index = LineIndex::new(text);
    Ok(spanned
        .into_iter()
        .filter_map(|t| {
            let kind = classify(t.token)?;
            Some(Token {
                kind,
                start: index.offset(t.span.start.line, t.span.start.column),
                end: index.offset(t.span.end.line, t.span.end.column),
                line: t.span.start.line as usize,
                column: t.span.start.column as usize,
            })
        })
        .collect())
}

/// Reduces a `sqlparser` token to a [`TokenKind`]; `None` for whitespace and comments.
fn classify(token: SqlToken) -> Option<TokenKind> {
    Some(match token {
        SqlToken::Whitespace(_) | SqlToken::EOF => return None,
        SqlToken::Word(w) => match w.quote_style {
            Some(_) => TokenKind::Word {
                value: w.value,
                quoted: true,
            },
            None => TokenKind::Word {
                value: w.value.to_ascii_lowercase(),
                quoted: false,
            },
        },
        SqlToken::SingleQuotedString(s)
        | SqlToken::EscapedStringLiteral(s)
        | SqlToken::NationalStringLiteral(s) => TokenKind::String(s),
        SqlToken::Number(n, _) => TokenKind::Number(n),
        SqlToken::Comma => TokenKind::Comma,
        SqlToken::LParen => TokenKind::LParen,
        SqlToken::RParen => TokenKind::RParen,
        SqlToken::Period => TokenKind::Period,
        SqlToken::SemiColon => TokenKind::Semicolon,
        SqlToken::LBracket => TokenKind::LBracket,
        SqlToken::RBracket => TokenKind::RBracket,
        SqlToken::DoubleColon => TokenKind::DoubleColon,
        _ => TokenKind::Other,
    })
}

/// Blanks out psql meta-command lines (`\\restrict KEY`, `\\connect db`, …), which no SQL
/// tokenizer accepts, keeping every line break so that line numbers stay right.
///
/// Like psql, only a backslash that starts a line outside string literals, quoted
/// identifiers, dollar-quoted bodies and comments starts a meta-command: a quoted name
/// such as `"a⏎\\b"` (which `pg_dump` prints across two lines) keeps its second line.
pub fn strip_meta_commands(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lexer = QuoteState::Code;
    for line in text.split_inclusive('\n') {
        if lexer == QuoteState::Code && line.trim_start().starts_with('\\') {
            if line.ends_with('\n') {
                out.push('\n');
            }
            continue;
        }
        lexer = lexer.after(line);
        out.push_str(line);
    }
    out
}

/// Where a lexer stands at the end of a line of SQL: in plain code, or inside a
/// construct that continues on the next line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum QuoteState {
    /// Plain SQL (a `--` comment ends with its line).
    Code,
    /// A string literal; `true` for an escape string (`E'…'`), where `\\` escapes.
    Literal(bool),
    /// A quoted identifier.
    Identifier,
    /// A dollar-quoted string with its tag (`$tag$`, or `$$` with an empty tag).
    Dollar(String),
    /// A block comment, nested this deep.
    Comment(usize),
}

impl QuoteState {
    /// The state after reading `line` from this one.
    fn after(self, line: &str) -> Self {
        let chars: Vec<char> = line.chars().collect();
        let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
        let mut state = self;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            match &mut state {
                QuoteState::Code => match c {
                    '-' if next == Some('-') => return QuoteState::Code,
                    '/' if next == Some('*') => {
                        state = QuoteState::Comment(1);
                        i += 1;
                    }
                    '\'' => {
                        let escape = i > 0
                            && matches!(chars[i - 1], 'e' | 'E')
                            && (i < 2 || !is_word(chars[i - 2]));
                        state = QuoteState::Literal(escape);
                    }
                    '"' => state = QuoteState::Identifier,
                    '$' if i == 0 || !is_word(chars[i - 1]) => {
                        let tag: String = chars[i + 1..]
                            .iter()
                            .take_while(|c| c.is_alphanumeric() || **c == '_')
                            .collect();
                        let closes = chars.get(i + 1 + tag.chars().count()) == Some(&'$');
                        if closes && !tag.starts_with(|c: char| c.is_ascii_digit()) {
                            i += tag.chars().count() + 1;
                            state = QuoteState::Dollar(tag);
                        }
                    }
                    _ => {}
                },
                QuoteState::Literal(escape) => match c {
                    '\\' if *escape => i += 1,
                    '\'' => state = QuoteState::Code,
                    _ => {}
                },
                QuoteState::Identifier => {
                    if c == '"' {
                        state = QuoteState::Code;
                    }
                }
                QuoteState::Dollar(tag) => {
                    let tag_len = tag.chars().count();
                    if c == '$'
                        && chars.get(i + 1 + tag_len) == Some(&'$')
                        && chars[i + 1..i + 1 + tag_len]
                            .iter()
                            .copied()
                            .eq(tag.chars())
                    {
                        i += tag_len + 1;
                        state = QuoteState::Code;
                    }
                }
                QuoteState::Comment(depth) => {
                    if c == '*' && next == Some('/') {
                        *depth -= 1;
                        i += 1;
                        if *depth == 0 {
                            state = QuoteState::Code;
                        }
                    } else if c == '/' && next == Some('*') {
                        *depth += 1;
                        i += 1;
                    }
                }
            }
            i += 1;
        }
        state
    }
}

/// Splits tokens into statements at semicolons outside parentheses (a rule's `DO (a; b)`
/// is one statement); the semicolons are dropped, empty statements skipped.
pub fn split_statements(tokens: &[Token]) -> Vec<&[Token]> {
    let mut statements = Vec::new();
    let mut start = 0;
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate() {
        match token.kind {
            TokenKind::LParen => depth += 1,
            TokenKind::RParen => depth = depth.saturating_sub(1),
            TokenKind::Semicolon if depth == 0 => {
                if i > start {
                    statements.push(&tokens[start..i]);
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    if tokens.len() > start {
        statements.push(&tokens[start..]);
    }
    statements
}

/// A reading position in the tokens of one statement, with the helpers a hand-written
/// recursive-descent reader needs.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    src: &'a str,
    tokens: &'a [Token],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the first of `tokens`, which were read from `src`.
    pub fn new(src: &'a str, tokens: &'a [Token]) -> Self {
        Self {
            src,
            tokens,
            pos: 0,
        }
    }

    /// The next token, if any.
    pub fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.pos)
    }

    /// The token `n` places ahead, if any.
    pub fn peek_nth(&self, n: usize) -> Option<&'a Token> {
        self.tokens.get(self.pos + n)
    }

    /// Whether every token has been read.
    pub fn at_end(&self) -> bool {
        self.pos >= self.tokens.len()
    }

    /// Takes the next token.
    pub fn next_token(&mut self) -> Option<&'a Token> {
        let t = self.tokens.get(self.pos);
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    /// Whether the next token is the unquoted keyword `kw`.
    pub fn peek_kw(&self, kw: &str) -> bool {
        self.peek().is_some_and(|t| t.is_kw(kw))
    }

    /// Whether the next token is of `kind`.
    pub fn peek_kind(&self, kind: &TokenKind) -> bool {
        self.peek().is_some_and(|t| &t.kind == kind)
    }

    /// Consumes the keywords `kws` if they all come next; otherwise consumes nothing.
    pub fn eat_kws(&mut self, kws: &[&str]) -> bool {
        let all = kws
            .iter()
            .enumerate()
            .all(|(i, kw)| self.peek_nth(i).is_some_and(|t| t.is_kw(kw)));
        if all {
            self.pos += kws.len();
        }
        all
    }

    /// Consumes the keyword `kw` if it comes next.
    pub fn eat_kw(&mut self, kw: &str) -> bool {
        self.eat_kws(&[kw])
    }

    /// Consumes a token of `kind` if it comes next.
    pub fn eat(&mut self, kind: &TokenKind) -> bool {
        let found = self.peek_kind(kind);
        if found {
            self.pos += 1;
        }
        found
    }

    /// Consumes the keywords `kws` or fails naming what was expected.
    pub fn expect_kws(&mut self, kws: &[&str]) -> Result<(), Problem> {
        if self.eat_kws(kws) {
            Ok(())
        } else {
            Err(self.syntax_error(format!("expected {}", kws.join(" ").to_uppercase())))
        }
    }

    /// Consumes a token of `kind` or fails naming `what` was expected.
    pub fn expect(&mut self, kind: &TokenKind, what: &str) -> Result<(), Problem> {
        if self.eat(kind) {
            Ok(())
        } else {
            Err(self.syntax_error(format!("expected {what}")))
        }
    }

    /// Reads an identifier (quoted, or unquoted and folded).
    pub fn ident(&mut self) -> Result<String, Problem> {
        match self.peek() {
            Some(Token {
                kind: TokenKind::Word { value, .. },
                ..
            }) => {
                self.pos += 1;
                Ok(value.clone())
            }
            _ => Err(self.syntax_error("expected a name")),
        }
    }

    /// Reads a possibly schema-qualified name; `None` as schema when unqualified.
    pub fn qualified_name(&mut self) -> Result<(Option<String>, String), Problem> {
        let first = self.ident()?;
        if self.eat(&TokenKind::Period) {
            let second = self.ident()?;
            return Ok((Some(first), second));
        }
        Ok((None, first))
    }

    /// Reads a parenthesised, comma-separated list of identifiers.
    pub fn ident_list(&mut self) -> Result<Vec<String>, Problem> {
        self.expect(&TokenKind::LParen, "(")?;
        let mut names = vec![self.ident()?];
        while self.eat(&TokenKind::Comma) {
            names.push(self.ident()?);
        }
        self.expect(&TokenKind::RParen, ")")?;
        Ok(names)
    }

    /// Skips a parenthesised group, nested groups included; the next token must be `(`.
    /// Returns the source text between the outer parentheses.
    pub fn paren_group(&mut self) -> Result<&'a str, Problem> {
        let open = self.peek().filter(|t| t.kind == TokenKind::LParen);
        let Some(open) = open else {
            return Err(self.syntax_error("expected ("));
        };
        self.pos += 1;
        let mut depth = 1usize;
        while let Some(t) = self.next_token() {
            match t.kind {
                TokenKind::LParen => depth += 1,
                TokenKind::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(&self.src[open.end..t.start]);
                    }
                }
                _ => {}
            }
        }
        Err(self.syntax_error("unbalanced parentheses"))
    }

    /// Reads tokens up to (not including) the first top-level token for which `stop`
    /// holds (or a top-level `,`/unmatched `)`), and returns their source text.
    pub fn raw_until(&mut self, stop: impl Fn(&Token) -> bool) -> &'a str {
        let first = self.pos;
        let mut depth = 0usize;
        while let Some(t) = self.peek() {
            match t.kind {
                TokenKind::LParen | TokenKind::LBracket => depth += 1,
                TokenKind::RParen | TokenKind::RBracket if depth == 0 => break,
                TokenKind::RParen | TokenKind::RBracket => depth -= 1,
                TokenKind::Comma if depth == 0 => break,
                _ if depth == 0 && self.pos > first && stop(t) => break,
                _ => {}
            }
            self.pos += 1;
        }
        self.text(first, self.pos)
    }

    /// Skips to the next top-level `,` or unmatched `)` (or the end).
    pub fn skip_element(&mut self) {
        self.raw_until(|_| false);
    }

    /// The source text of tokens `from..to` (token indices).
    pub fn text(&self, from: usize, to: usize) -> &'a str {
        if from >= to {
            return "";
        }
        &self.src[self.tokens[from].start..self.tokens[to - 1].end]
    }

    /// The source text of the rest of the statement.
    pub fn rest(&self) -> &'a str {
        self.text(self.pos, self.tokens.len())
    }

    /// A problem at the next token (or at the last one when all were read).
    pub fn problem(&self, message: impl Into<String>) -> Problem {
        let (line, column) = self
            .peek()
            .or_else(|| self.tokens.last())
            .map_or((1, 1), |t| (t.line, t.column));
        Problem {
            line,
            column,
            message: message.into(),
        }
    }

    /// A syntax error at the next token: the message is completed with the text found
    /// there (or the end of the statement).
    pub fn syntax_error(&self, message: impl Into<String>) -> Problem {
        let mut problem = self.problem(message);
        match self.peek() {
            Some(t) => {
                let found = &self.src[t.start..t.end];
                problem.message.push_str(&format!(", found `{found}`"));
            }
            None => problem.message.push_str(" at the end of the statement"),
        }
        problem
    }
}

/// A type name in the form of the model: as `format_type()` prints it, plus the element
/// type of an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalType {
    /// The type (`integer`, `character varying(20)[]`, `public.mood`).
    pub type_name: String,
    /// For arrays, the element type; `None` otherwise.
    pub element_type: Option<String>,
}

/// A serial pseudo-type (`serial`, `bigserial`, `smallserial`) and the integer type
/// PostgreSQL gives the column instead.
pub fn serial_type(cursor: &Cursor<'_>) -> Option<&'static str> {
    let t = cursor.peek()?;
    // A serial followed by `.`, `(` or `[` is something else (a qualified name, a typmod
    // or an array), which PostgreSQL would not expand either.
    let next = cursor.peek_nth(1);
    if next.is_some_and(|n| {
        matches!(
            n.kind,
            TokenKind::Period | TokenKind::LParen | TokenKind::LBracket
        )
    }) {
        return None;
    }
    match &t.kind {
        TokenKind::Word {
            value,
            quoted: false,
        } => match value.as_str() {
            "serial" | "serial4" => Some("integer"),
            "bigserial" | "serial8" => Some("bigint"),
            "smallserial" | "serial2" => Some("smallint"),
            _ => None,
        },
        _ => None,
    }
}

/// The default PostgreSQL gives a serial column of `table` in `schema`:
/// `nextval('<schema>.<table>_<column>_seq'::regclass)`, the sequence name built and
/// truncated the way PostgreSQL builds it.
pub fn serial_default(schema: &str, table: &str, column: &str) -> String {
    let sequence = object_name(table, Some(column), "seq");
    let qualified = QualifiedName::new(schema, sequence).to_sql();
    format!("nextval({}::regclass)", quote_literal(&qualified))
}

/// PostgreSQL's `makeObjectName`: `name1_name2_label`, with the longer of the two names
/// shortened first until the whole fits in 63 bytes (never splitting a character).
pub fn object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    const MAX_IDENTIFIER_BYTES: usize = 63;
    let overhead = label.len() + 1 + usize::from(name2.is_some());
    let available = MAX_IDENTIFIER_BYTES.saturating_sub(overhead);
    let mut len1 = name1.len();
    let mut len2 = name2.map_or(0, str::len);
    while len1 + len2 > available {
        if len1 > len2 {
            len1 -= 1;
        } else {
            len2 -= 1;
        }
    }
    let mut name = clip(name1, len1).to_owned();
    if let Some(name2) = name2 {
        name.push('_');
        name.push_str(clip(name2, len2));
    }
    name.push('_');
    name.push_str(label);
    name
}

/// The longest prefix of `s` of at most `bytes` bytes that ends on a character boundary.
fn clip(s: &str, bytes: usize) -> &str {
    let mut end = bytes.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Tells which schema an unqualified user-defined type name refers to, the way a
/// `search_path` would (built-in types never get here: `pg_catalog` is searched first).
pub trait TypeResolver {
    /// The schema of the type written unqualified as `name`.
    fn schema_of_type(&self, name: &str) -> String;
}

/// A [`TypeResolver`] putting every unqualified user-defined type in one schema.
#[derive(Debug, Clone, Copy)]
pub struct InSchema<'a>(pub &'a str);

impl TypeResolver for InSchema<'_> {
    fn schema_of_type(&self, _name: &str) -> String {
        self.0.to_owned()
    }
}

/// Canonicalises a type written as SQL text (`int`, `varchar(20)`, `timestamp(3) with time
/// zone`, `int[][]`, `"Sales"."Money Bag"`, `mood`) into the form of the model.
///
/// Unqualified names that are not built-in types are resolved by `types` (the file
/// sources follow `search_path`, by default `public`, where extensions such as `citext`
/// usually live too). Serial pseudo-types are not types; callers expand them with
/// [`serial_type`] before reading a type.
pub fn canonical_type(text: &str, types: &dyn TypeResolver) -> Result<CanonicalType, Problem> {
    let tokens = tokenize(text)?;
    let mut cursor = Cursor::new(text, &tokens);
    let ty = read_type(&mut cursor, types)?;
    if !cursor.at_end() {
        return Err(cursor.syntax_error("unexpected text after the type"));
    }
    Ok(ty)
}

/// Reads a type at the cursor (see [`canonical_type`]), stopping after the type's last
/// token (typmods and array brackets included).
pub fn read_type(
    cursor: &mut Cursor<'_>,
    types: &dyn TypeResolver,
) -> Result<CanonicalType, Problem> {
    let element = read_base_type(cursor, types)?;
    let array_suffix = read_array_suffix(cursor)?;
    // A catalog array name (`_int4`) comes back as `integer[]` already.
    let (element, is_array) = match element.strip_suffix("[]") {
        Some(inner) => (inner.to_owned(), true),
        None => (element, array_suffix),
    };
    Ok(if is_array {
        CanonicalType {
            type_name: format!("{element}[]"),
            element_type: Some(element),
        }
    } else {
        CanonicalType {
            type_name: element,
            element_type: None,
        }
    })
}

/// The canonical element type of an internal array type name such as `int4` (from
/// `_int4`), when it is a built-in type.
fn builtin_array_element(name: &str) -> Option<String> {
    BUILTIN_TYPES
        .binary_search(&name)
        .ok()
        .map(|_| builtin_name(name, &[]).unwrap_or_else(|| name.to_owned()))
}

/// Reads array decorations (`[]`, `[3][4]`, `ARRAY`, `ARRAY[5]`); true when any was there.
fn read_array_suffix(cursor: &mut Cursor<'_>) -> Result<bool, Problem> {
    let mut is_array = false;
    loop {
        if cursor.eat(&TokenKind::LBracket) {
            if matches!(cursor.peek().map(|t| &t.kind), Some(TokenKind::Number(_))) {
                cursor.next_token();
            }
            cursor.expect(&TokenKind::RBracket, "]")?;
            is_array = true;
        } else if cursor.eat_kw("array") {
            is_array = true;
        } else {
            return Ok(is_array);
        }
    }
}

/// Reads a type without array decorations and returns its canonical name.
fn read_base_type(cursor: &mut Cursor<'_>, types: &dyn TypeResolver) -> Result<String, Problem> {
    if let Some(name) = read_multiword_builtin(cursor)? {
        return Ok(name);
    }
    let (first, first_quoted) = match cursor.peek() {
        Some(Token {
            kind: TokenKind::Word { value, quoted },
            ..
        }) => (value.clone(), *quoted),
        _ => return Err(cursor.syntax_error("expected a type name")),
    };
    let (schema, name) = cursor.qualified_name()?;
    let typmods = read_typmods(cursor)?;
    match schema {
        None if !first_quoted => {
            if let Some(builtin) = builtin_name(&name, &typmods) {
                return Ok(builtin);
            }
            // `_int4` is how the catalog names integer arrays; format_type prints
            // `integer[]`.
            if let Some(element) = name.strip_prefix('_').and_then(builtin_array_element) {
                return Ok(format!("{element}[]"));
            }
        }
        // A quoted name is taken literally: `"char"` is the one-byte type, `"int4"` the
        // catalog name; neither goes through the SQL-standard aliases.
        None if BUILTIN_TYPES.binary_search(&first.as_str()).is_ok() => {
            return Ok(match first.as_str() {
                "char" => with_typmods("\"char\"", &typmods),
                catalog => builtin_name(catalog, &typmods)
                    .unwrap_or_else(|| with_typmods(catalog, &typmods)),
            });
        }
        Some(ref s) if s == "pg_catalog" => {
            return builtin_name(&name, &typmods)
                .ok_or_else(|| cursor.problem(format!("unknown type pg_catalog.{name}")));
        }
        _ => {}
    }
    let schema = schema.unwrap_or_else(|| types.schema_of_type(&name));
    // User-defined types take no typmods in the model (format_type prints none for the
    // types the model holds), so they are dropped.
    Ok(QualifiedName::new(schema, name).to_sql())
}

/// Reads `( n [, n …] )` after a type name, returning the modifiers as written.
fn read_typmods(cursor: &mut Cursor<'_>) -> Result<Vec<String>, Problem> {
    if !cursor.peek_kind(&TokenKind::LParen) {
        return Ok(Vec::new());
    }
    let inner = cursor.paren_group()?;
    Ok(inner.split(',').map(|m| m.trim().to_owned()).collect())
}

/// Reads the built-in types whose names are several keywords (`double precision`,
/// `character varying`, `time with time zone`, `interval day to second`, …).
fn read_multiword_builtin(cursor: &mut Cursor<'_>) -> Result<Option<String>, Problem> {
    if cursor.eat_kws(&["double", "precision"]) {
        return Ok(Some("double precision".to_owned()));
    }
    let national = cursor.eat_kw("national");
    if cursor.peek_kw("character") || cursor.peek_kw("char") || cursor.peek_kw("nchar") {
        cursor.next_token();
        let varying = cursor.eat_kw("varying");
        let typmods = read_typmods(cursor)?;
        let name = if varying { "varchar" } else { "bpchar" };
        let typmods = if !varying && typmods.is_empty() {
            // A bare `char`/`character` is `character(1)`.
            vec!["1".to_owned()]
        } else {
            typmods
        };
        return Ok(builtin_name(name, &typmods));
    }
    if national {
        return Err(cursor.syntax_error("expected CHARACTER after NATIONAL"));
    }
    if cursor.eat_kws(&["bit", "varying"]) {
        let typmods = read_typmods(cursor)?;
        return Ok(builtin_name("varbit", &typmods));
    }
    if cursor.peek_kw("bit")
        && !cursor
            .peek_nth(1)
            .is_some_and(|t| t.kind == TokenKind::Period)
    {
        cursor.next_token();
        let typmods = read_typmods(cursor)?;
        let typmods = if typmods.is_empty() {
            vec!["1".to_owned()]
        } else {
            typmods
        };
        return Ok(builtin_name("bit", &typmods));
    }
    for base in ["time", "timestamp"] {
        if cursor.peek_kw(base)
            && !cursor
                .peek_nth(1)
                .is_some_and(|t| t.kind == TokenKind::Period)
        {
            cursor.next_token();
            let typmods = read_typmods(cursor)?;
            let zoned = if cursor.eat_kws(&["with", "time", "zone"]) {
                true
            } else {
                cursor.eat_kws(&["without", "time", "zone"]);
                false
            };
            let name = if zoned {
                format!("{base}tz")
            } else {
                base.to_owned()
            };
            return Ok(builtin_name(&name, &typmods));
        }
    }
    if cursor.peek_kw("interval")
        && !cursor
            .peek_nth(1)
            .is_some_and(|t| t.kind == TokenKind::Period)
    {
        cursor.next_token();
        return read_interval(cursor).map(Some);
    }
    Ok(None)
}

/// Reads what follows `interval`: optional fields (`day`, `year to month`, `second(3)`)
/// and an optional precision.
fn read_interval(cursor: &mut Cursor<'_>) -> Result<String, Problem> {
    const FIELDS: [&str; 7] = ["year", "month", "day", "hour", "minute", "second", "to"];
    let mut out = "interval".to_owned();
    while let Some(field) = FIELDS.iter().find(|f| cursor.peek_kw(f)) {
        cursor.next_token();
        out.push(' ');
        out.push_str(field);
    }
    let typmods = read_typmods(cursor)?;
    Ok(with_typmods(&out, &typmods))
}

/// `name(m1,m2)` as format_type prints modifiers: comma-separated without spaces.
fn with_typmods(name: &str, typmods: &[String]) -> String {
    if typmods.is_empty() {
        name.to_owned()
    } else {
        format!("{name}({})", typmods.join(","))
    }
}

/// The canonical name of a built-in type written as one (unquoted, folded) word with
/// `typmods`; `None` when `name` is not a built-in type.
fn builtin_name(name: &str, typmods: &[String]) -> Option<String> {
    let plain = |canonical: &str| Some(with_typmods(canonical, typmods));
    match name {
        "int" | "integer" | "int4" => plain("integer"),
        "smallint" | "int2" => plain("smallint"),
        "bigint" | "int8" => plain("bigint"),
        "real" | "float4" => plain("real"),
        "float8" => plain("double precision"),
        "float" => Some(float_name(typmods)),
        "decimal" | "dec" | "numeric" => Some(numeric_name(typmods)),
        "bool" | "boolean" => plain("boolean"),
        "varchar" => plain("character varying"),
        // Written as `bpchar` without a length, the type prints as `bpchar`.
        "bpchar" if typmods.is_empty() => Some("bpchar".to_owned()),
        "bpchar" => plain("character"),
        "varbit" => plain("bit varying"),
        "time" | "timetz" | "timestamp" | "timestamptz" => Some(time_name(name, typmods)),
        "char" => None,
        _ if BUILTIN_TYPES.binary_search(&name).is_ok() => plain(name),
        _ => None,
    }
}

/// `float(p)`: real up to 24 bits of precision, double precision above (and without p).
fn float_name(typmods: &[String]) -> String {
    match typmods.first().and_then(|p| p.parse::<u32>().ok()) {
        Some(p) if p <= 24 => "real".to_owned(),
        _ => "double precision".to_owned(),
    }
}

/// `numeric(p)` prints as `numeric(p,0)`.
fn numeric_name(typmods: &[String]) -> String {
    match typmods {
        [p] => format!("numeric({p},0)"),
        _ => with_typmods("numeric", typmods),
    }
}

/// `time(3)` prints as `time(3) without time zone`, `timestamptz` as `timestamp with time
/// zone`.
fn time_name(name: &str, typmods: &[String]) -> String {
    let (base, zone) = match name.strip_suffix("tz") {
        Some(base) => (base, "with time zone"),
        None => (name, "without time zone"),
    };
    format!("{} {zone}", with_typmods(base, typmods))
}

/// The base, range and multirange types of `pg_catalog` that `format_type` prints by
/// their catalog name (PostgreSQL 15; `typname !~ '^_'`), sorted for binary search.
const BUILTIN_TYPES: &[&str] = &[
    "aclitem",
    "bit",
    "bool",
    "box",
    "bpchar",
    "bytea",
    "char",
    "cid",
    "cidr",
    "circle",
    "date",
    "datemultirange",
    "daterange",
    "float4",
    "float8",
    "gtsvector",
    "inet",
    "int2",
    "int2vector",
    "int4",
    "int4multirange",
    "int4range",
    "int8",
    "int8multirange",
    "int8range",
    "interval",
    "json",
    "jsonb",
    "jsonpath",
    "line",
    "lseg",
    "macaddr",
    "macaddr8",
    "money",
    "name",
    "numeric",
    "nummultirange",
    "numrange",
    "oid",
    "oidvector",
    "path",
    "pg_brin_bloom_summary",
    "pg_brin_minmax_multi_summary",
    "pg_dependencies",
    "pg_lsn",
    "pg_mcv_list",
    "pg_ndistinct",
    "pg_node_tree",
    "pg_snapshot",
    "point",
    "polygon",
    "refcursor",
    "regclass",
    "regcollation",
    "regconfig",
    "regdictionary",
    "regnamespace",
    "regoper",
    "regoperator",
    "regproc",
    "regprocedure",
    "regrole",
    "regtype",
    "text",
    "tid",
    "time",
    "timestamp",
    "timestamptz",
    "timetz",
    "tsmultirange",
    "tsquery",
    "tsrange",
    "tstzmultirange",
    "tstzrange",
    "tsvector",
    "txid_snapshot",
    "uuid",
    "varbit",
    "varchar",
    "xid",
    "xid8",
    "xml",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: &str) -> String {
        canonical_type(text, &InSchema("public")).unwrap().type_name
    }

    #[test]
    fn builtin_list_is_sorted_for_binary_search() {
        assert!(BUILTIN_TYPES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn types_print_like_format_type() {
        let cases = [
            ("int", "integer"),
            ("int4", "integer"),
            ("INTEGER", "integer"),
            ("int2", "smallint"),
            ("int8", "bigint"),
            ("varchar(20)", "character varying(20)"),
            ("character varying", "character varying"),
            ("char varying(4)", "character varying(4)"),
            ("national character varying(3)", "character varying(3)"),
            ("char", "character(1)"),
            ("char(3)", "character(3)"),
            ("character(5)", "character(5)"),
            ("bpchar", "bpchar"),
            ("\"char\"", "\"char\""),
            ("timestamptz", "timestamp with time zone"),
            ("timestamp(3) with time zone", "timestamp(3) with time zone"),
            ("timestamp", "timestamp without time zone"),
            ("time", "time without time zone"),
            ("time(3)", "time(3) without time zone"),
            ("timetz", "time with time zone"),
            ("double precision", "double precision"),
            ("float8", "double precision"),
            ("float", "double precision"),
            ("float(10)", "real"),
            ("float(30)", "double precision"),
            ("float4", "real"),
            ("bool", "boolean"),
            ("decimal(10, 2)", "numeric(10,2)"),
            ("numeric(10)", "numeric(10,0)"),
            ("decimal", "numeric"),
            ("bit", "bit(1)"),
            ("varbit(5)", "bit varying(5)"),
            ("bit varying", "bit varying"),
            ("interval day", "interval day"),
            ("interval year to month", "interval year to month"),
            ("interval second(3)", "interval second(3)"),
            ("interval(2)", "interval(2)"),
            ("pg_catalog.int4", "integer"),
            ("tsvector", "tsvector"),
            ("jsonb", "jsonb"),
            ("mood", "public.mood"),
            ("public.mood", "public.mood"),
            ("\"Sales\".\"Money Bag\"", "\"Sales\".\"Money Bag\""),
            ("citext", "public.citext"),
            ("\"User\"", "public.\"User\""),
        ];
        for (written, expected) in cases {
            assert_eq!(canon(written), expected, "{written}");
        }
    }

    #[test]
    fn arrays_have_one_pair_of_brackets_and_an_element_type() {
        for written in [
            "int[][]",
            "integer ARRAY",
            "int array[5]",
            "int[3][4]",
            "_int4",
        ] {
            let t = canonical_type(written, &InSchema("public")).unwrap();
            assert_eq!(t.type_name, "integer[]", "{written}");
            assert_eq!(t.element_type.as_deref(), Some("integer"));
        }
        let t = canonical_type("numeric(10, 2)[]", &InSchema("public")).unwrap();
        assert_eq!(t.element_type.as_deref(), Some("numeric(10,2)"));
        assert_eq!(canon("mood[]"), "public.mood[]");
        assert_eq!(canon("\"char\"[]"), "\"char\"[]");
    }

    #[test]
    fn serial_defaults_name_and_quote_the_sequence_like_postgres() {
        assert_eq!(
            serial_default("public", "article", "id"),
            "nextval('public.article_id_seq'::regclass)"
        );
        assert_eq!(
            serial_default("public", "Order", "id"),
            "nextval('public.\"Order_id_seq\"'::regclass)"
        );
        let long_a = "a".repeat(62);
        let long_b = "b".repeat(62);
        assert_eq!(
            object_name(&long_a, Some(&long_b), "seq"),
            format!("{}_{}_seq", "a".repeat(29), "b".repeat(29))
        );
        assert_eq!(object_name("it's", Some("id"), "seq"), "it's_id_seq");
        assert_eq!(
            serial_default("public", "it's", "id"),
            "nextval('public.\"it''s_id_seq\"'::regclass)"
        );
    }

    #[test]
    fn expressions_collapse_whitespace_outside_literals() {
        assert_eq!(normalize_expr("  now( )\n  "), "now( )");
        assert_eq!(normalize_expr("a  +\n\tb"), "a + b");
        assert_eq!(normalize_expr("'a  b'::text"), "'a  b'::text");
        assert_eq!(
            normalize_expr("\"x  y\" ||  'it''s  ok'"),
            "\"x  y\" || 'it''s  ok'"
        );
    }

    #[test]
    fn meta_commands_are_blanked_keeping_lines() {
        let text = "\\restrict abc\nSELECT 1;\n\\unrestrict abc";
        assert_eq!(strip_meta_commands(text), "\nSELECT 1;\n");
    }

    #[test]
    fn backslash_lines_inside_quotes_and_comments_are_kept() {
        for kept in [
            "CREATE TABLE public.\"y\n\\restrict abc\nz\" (id int);\n",
            "SELECT 'a\n\\b';\n",
            "SELECT E'it\\'s\n\\b';\n",
            "SELECT $$a\n\\b$$;\n",
            "SELECT $f$ $$ \n\\b $f$;\n",
            "/* a /* nested */\n\\b */ SELECT 1;\n",
            "SELECT a$b$c, 'x''\n\\y';\n",
        ] {
            assert_eq!(strip_meta_commands(kept), kept, "{kept:?}");
        }
        for (text, blanked) in [
            ("SELECT 1; -- it's\n\\restrict k\n", "SELECT 1; -- it's\n\n"),
            (
                "SELECT '';\n  \\connect db\nSELECT 2;",
                "SELECT '';\n\nSELECT 2;",
            ),
            ("SELECT $1;\n\\x\n", "SELECT $1;\n\n"),
            ("SELECT $$x$$;\n\\x", "SELECT $$x$$;\n"),
        ] {
            assert_eq!(strip_meta_commands(text), blanked, "{text:?}");
        }
    }

    #[test]
    fn tokens_carry_byte_offsets_and_lines() {
        let text = "CREATE TABLE \"café\" (\n  x int DEFAULT 'é'\n);";
        let tokens = tokenize(text).unwrap();
        let default = tokens
            .iter()
            .find(|t| t.kind == TokenKind::String("é".into()));
        let default = default.unwrap();
        assert_eq!(&text[default.start..default.end], "'é'");
        assert_eq!((default.line, default.column), (2, 17));
        let cafe = &tokens[2];
        assert_eq!(&text[cafe.start..cafe.end], "\"café\"");
    }

    #[test]
    fn long_lines_tokenize_in_linear_time() {
        // 200,000 tokens on one line: walking from the line start for each token took
        // minutes.
        let line = format!("SELECT {}1{};", "(".repeat(100_000), ")".repeat(100_000));
        let start = std::time::Instant::now();
        let tokens = tokenize(&line).unwrap();
        assert_eq!(tokens.len(), 200_003);
        let last = &tokens[tokens.len() - 1];
        assert_eq!((last.start, last.end), (line.len() - 1, line.len()));
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        // Offsets stay exact with multi-byte characters and several lines.
        let text = "é 'ü' x\n  \"ß\" é;";
        let tokens = tokenize(text).unwrap();
        let spans: Vec<&str> = tokens.iter().map(|t| &text[t.start..t.end]).collect();
        assert_eq!(spans, ["é", "'ü'", "x", "\"ß\"", "é", ";"]);
    }

    #[test]
    fn statements_split_at_semicolons_outside_parentheses() {
        let text = "CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2);; SELECT 3";
        let tokens = tokenize(text).unwrap();
        let statements = split_statements(&tokens);
        assert_eq!(statements.len(), 2);
        assert!(statements[1][0].is_kw("select"));
    }
}
