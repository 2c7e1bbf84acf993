//! The two stores the state can live in, behind one small interface: an embedded SQLite file
//! (the default) and a PostgreSQL server that several crawl hosts share. Statements are written
//! once, in the SQL both understand, with `?N` parameters; the few that cannot be (full-text
//! search, claims that skip rows other hosts hold) ask [`Db::dialect`].

use std::cell::Cell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use rusqlite::Connection;

use crate::error::{Error, Result};

/// Which SQL the store speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The embedded file.
    Sqlite,
    /// A shared server.
    Postgres,
}

/// Whether a configured state location names a PostgreSQL database rather than a file.
pub fn is_server(location: &Path) -> bool {
    let s = location.to_string_lossy();
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// A server address as messages show it: without its password.
pub fn shown(location: &Path) -> PathBuf {
    let s = location.to_string_lossy();
    match url::Url::parse(&s) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            PathBuf::from(u.to_string())
        }
        _ => location.to_path_buf(),
    }
}

/// One parameter or column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// SQL NULL.
    Null,
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(&'a str),
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Text(v)
    }
}
impl<'a> From<&'a String> for Value<'a> {
    fn from(v: &'a String) -> Self {
        Value::Text(v)
    }
}
impl<'a, T: Into<Value<'a>>> From<Option<T>> for Value<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}
impl From<f64> for Value<'_> {
    fn from(v: f64) -> Self {
        Value::Real(v)
    }
}

/// A value read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Datum {
    /// SQL NULL.
    Null,
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(String),
}

impl Datum {
    /// A parameter as a value of its own (handed to the server's thread).
    fn of(v: &Value) -> Datum {
        match v {
            Value::Null => Datum::Null,
            Value::Int(i) => Datum::Int(*i),
            Value::Real(f) => Datum::Real(*f),
            Value::Text(s) => Datum::Text((*s).to_string()),
        }
    }

    /// The value as a parameter (copying a row from one store to the other).
    pub fn as_value(&self) -> Value<'_> {
        match self {
            Datum::Null => Value::Null,
            Datum::Int(i) => Value::Int(*i),
            Datum::Real(f) => Value::Real(*f),
            Datum::Text(t) => Value::Text(t),
        }
    }
}

/// One row read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Datum>);

impl Row {
    /// An integer column (NULL and text as 0).
    pub fn int(&self, i: usize) -> i64 {
        self.opt_int(i).unwrap_or(0)
    }
    /// An integer column that may be NULL.
    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match self.0.get(i) {
            Some(Datum::Int(v)) => Some(*v),
            Some(Datum::Real(v)) => Some(*v as i64),
            _ => None,
        }
    }
    /// A text column (NULL as empty).
    pub fn text(&self, i: usize) -> String {
        self.opt_text(i).unwrap_or_default()
    }
    /// A text column that may be NULL.
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match self.0.get(i) {
            Some(Datum::Text(v)) => Some(v.clone()),
            Some(Datum::Int(v)) => Some(v.to_string()),
            _ => None,
        }
    }
}

/// The connection to one store.
pub struct Db {
    conn: Conn,
    /// The file, or the server's address without its password: what messages name.
    label: PathBuf,
    /// How many transactions are open (`BEGIN` and then savepoints).
    depth: Cell<u32>,
}

enum Conn {
    Sqlite(Connection),
    Postgres(Pg),
}

impl Db {
    /// A SQLite connection.
    pub fn sqlite(conn: Connection, path: &Path) -> Db {
        Db { conn: Conn::Sqlite(conn), label: path.to_path_buf(), depth: Cell::new(0) }
    }

    /// Connects to a PostgreSQL server.
    pub fn postgres(url: &Path) -> Result<Db> {
        let label = shown(url);
        let pg = Pg::connect(&url.to_string_lossy()).map_err(|message| crate::archive::state_error(label.clone(), format!("cannot connect to PostgreSQL ({message}); is the server running, and the address, user and password right?")))?;
        Ok(Db { conn: Conn::Postgres(pg), label, depth: Cell::new(0) })
    }

    /// The store's SQL.
    pub fn dialect(&self) -> Dialect {
        match self.conn {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The SQLite connection, for what only SQLite has (FTS5, pragmas).
    pub fn sqlite_conn(&self) -> Option<&Connection> {
        match &self.conn {
            Conn::Sqlite(c) => Some(c),
            Conn::Postgres(_) => None,
        }
    }

    /// What messages name.
    pub fn label(&self) -> &Path {
        &self.label
    }

    /// Runs one statement; returns the rows it changed.
    pub fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        match &self.conn {
            Conn::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql).map_err(|e| self.sqlite_err(&e))?;
                stmt.execute(rusqlite::params_from_iter(params.iter().map(sqlite_value)))
                    .map(|n| n as u64)
                    .map_err(|e| self.sqlite_err(&e))
            }
            Conn::Postgres(pg) => {
                let (sql, params) = (postgres_sql(sql), owned(params));
                pg.run(move |c| c.execute(&sql, &params)).map_err(|m| self.pg_err(m))
            }
        }
    }

    /// Runs one statement and reads every row it returns.
    pub fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        match &self.conn {
            Conn::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql).map_err(|e| self.sqlite_err(&e))?;
                let n = stmt.column_count();
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(params.iter().map(sqlite_value)), |r| {
                        (0..n).map(|i| r.get_ref(i).map(cell_of_sqlite)).collect::<rusqlite::Result<Vec<_>>>().map(Row)
                    })
                    .map_err(|e| self.sqlite_err(&e))?;
                rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.sqlite_err(&e))
            }
            Conn::Postgres(pg) => {
                let (sql, params) = (postgres_sql(sql), owned(params));
                pg.run(move |c| c.query(&sql, &params)).map_err(|m| self.pg_err(m))
            }
        }
    }

    /// The rowid of the row the last `INSERT` of a SQLite connection added (0 on a server,
    /// where statements say `RETURNING`).
    pub fn last_insert_rowid(&self) -> i64 {
        match &self.conn {
            Conn::Sqlite(c) => c.last_insert_rowid(),
            Conn::Postgres(_) => 0,
        }
    }

    /// The first row a statement returns, if any.
    pub fn query_row(&self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// One integer a statement returns (0 when it returns nothing or NULL).
    pub fn query_int(&self, sql: &str, params: &[Value]) -> Result<i64> {
        Ok(self.query_row(sql, params)?.map_or(0, |r| r.int(0)))
    }

    /// Statements without parameters, separated by `;`.
    pub fn batch(&self, sql: &str) -> Result<()> {
        match &self.conn {
            Conn::Sqlite(c) => c.execute_batch(sql).map_err(|e| self.sqlite_err(&e)),
            Conn::Postgres(pg) => {
                let sql = sql.to_string();
                pg.run(move |c| c.batch(&sql)).map_err(|m| self.pg_err(m))
            }
        }
    }

    /// Runs `f` whole or not at all: a transaction, or a savepoint inside one already open.
    pub fn atomic<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let depth = self.depth.get();
        let (begin, commit, rollback) = if depth == 0 {
            ("BEGIN".to_string(), "COMMIT".to_string(), "ROLLBACK".to_string())
        } else {
            (
                format!("SAVEPOINT s{depth}"),
                format!("RELEASE SAVEPOINT s{depth}"),
                format!("ROLLBACK TO SAVEPOINT s{depth}; RELEASE SAVEPOINT s{depth}"),
            )
        };
        self.batch(&begin)?;
        self.depth.set(depth + 1);
        let result = f();
        self.depth.set(depth);
        match result {
            Ok(v) => {
                if let Err(e) = self.batch(&commit) {
                    let _ = self.batch(&rollback);
                    return Err(e);
                }
                Ok(v)
            }
            Err(e) => {
                let _ = self.batch(&rollback);
                Err(e)
            }
        }
    }

    /// Opens a transaction that [`Db::commit`] ends (a caller's bulk writes).
    pub fn begin(&self) -> Result<()> {
        self.batch("BEGIN")?;
        self.depth.set(1);
        Ok(())
    }

    /// Commits what [`Db::begin`] opened.
    pub fn commit(&self) -> Result<()> {
        self.depth.set(0);
        self.batch("COMMIT")
    }

    /// Rolls back what [`Db::begin`] opened, if it is still open.
    pub fn rollback(&self) {
        if self.depth.get() > 0 {
            self.depth.set(0);
            let _ = self.batch("ROLLBACK");
        }
    }

    /// A SQLite error as wxsec reports it, naming the state file.
    pub fn sqlite_err(&self, e: &rusqlite::Error) -> Error {
        super::state_err(&self.label, e)
    }

    fn pg_err(&self, message: String) -> Error {
        crate::archive::state_error(self.label.clone(), format!("PostgreSQL: {message}"))
    }
}

fn sqlite_value<'a>(v: &'a Value<'a>) -> rusqlite::types::ToSqlOutput<'a> {
    use rusqlite::types::{ToSqlOutput, ValueRef};
    ToSqlOutput::Borrowed(match v {
        Value::Null => ValueRef::Null,
        Value::Int(i) => ValueRef::Integer(*i),
        Value::Real(f) => ValueRef::Real(*f),
        Value::Text(s) => ValueRef::Text(s.as_bytes()),
    })
}

fn cell_of_sqlite(v: rusqlite::types::ValueRef) -> Datum {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Datum::Null,
        ValueRef::Integer(i) => Datum::Int(i),
        ValueRef::Real(f) => Datum::Real(f),
        ValueRef::Text(t) | ValueRef::Blob(t) => Datum::Text(String::from_utf8_lossy(t).into_owned()),
    }
}

/// `?N` parameters as PostgreSQL writes them (`$N`). Statements here hold no `?` in literals.
fn postgres_sql(sql: &str) -> String {
    sql.replace('?', "$")
}

fn owned(params: &[Value]) -> Vec<Datum> {
    params.iter().map(Datum::of).collect()
}

impl postgres::types::ToSql for Datum {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::Type;
        // A parameter takes the type the server inferred for its place: the schema keeps
        // integers as BIGINT, but an expression may ask for another width.
        match self {
            Datum::Null => Ok(postgres::types::IsNull::Yes),
            Datum::Int(i) => match *ty {
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::FLOAT4 => (*i as f32).to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => i.to_string().to_sql(ty, out),
                _ => i.to_sql(ty, out),
            },
            Datum::Real(f) => match *ty {
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ => f.to_sql(ty, out),
            },
            Datum::Text(s) => s.to_sql(ty, out),
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// A PostgreSQL connection owned by a thread of its own: the client blocks on a runtime of its
/// own, which may not run inside the crawl's. Each call hands the thread one job and waits.
struct Pg {
    jobs: mpsc::Sender<Job>,
}

type Job = Box<dyn FnOnce(&mut PgConn) + Send>;

/// The client and its prepared statements.
struct PgConn {
    client: postgres::Client,
    prepared: HashMap<String, postgres::Statement>,
}

impl PgConn {
    fn statement(&mut self, sql: &str) -> std::result::Result<postgres::Statement, postgres::Error> {
        if let Some(s) = self.prepared.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        self.prepared.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    fn refs(params: &[Datum]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
        params.iter().map(|p| p as &(dyn postgres::types::ToSql + Sync)).collect()
    }

    fn execute(&mut self, sql: &str, params: &[Datum]) -> std::result::Result<u64, String> {
        let stmt = self.statement(sql).map_err(|e| describe(&e))?;
        self.client.execute(&stmt, &PgConn::refs(params)).map_err(|e| describe(&e))
    }

    fn query(&mut self, sql: &str, params: &[Datum]) -> std::result::Result<Vec<Row>, String> {
        let stmt = self.statement(sql).map_err(|e| describe(&e))?;
        let rows = self.client.query(&stmt, &PgConn::refs(params)).map_err(|e| describe(&e))?;
        rows.iter().map(row_of_pg).collect()
    }

    fn batch(&mut self, sql: &str) -> std::result::Result<(), String> {
        self.client.batch_execute(sql).map_err(|e| describe(&e))
    }
}

fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

fn row_of_pg(r: &postgres::Row) -> std::result::Result<Row, String> {
    use postgres::types::Type;
    let mut cells = Vec::with_capacity(r.len());
    for (i, col) in r.columns().iter().enumerate() {
        let e = |e: postgres::Error| e.to_string();
        let cell = match *col.type_() {
            Type::INT8 => r.try_get::<_, Option<i64>>(i).map_err(e)?.map(Datum::Int),
            Type::INT4 => r.try_get::<_, Option<i32>>(i).map_err(e)?.map(|v| Datum::Int(v.into())),
            Type::INT2 => r.try_get::<_, Option<i16>>(i).map_err(e)?.map(|v| Datum::Int(v.into())),
            Type::BOOL => r.try_get::<_, Option<bool>>(i).map_err(e)?.map(|v| Datum::Int(v.into())),
            Type::FLOAT8 => r.try_get::<_, Option<f64>>(i).map_err(e)?.map(Datum::Real),
            Type::FLOAT4 => r.try_get::<_, Option<f32>>(i).map_err(e)?.map(|v| Datum::Real(v.into())),
            _ => r.try_get::<_, Option<String>>(i).map_err(e)?.map(Datum::Text),
        };
        cells.push(cell.unwrap_or(Datum::Null));
    }
    Ok(Row(cells))
}

impl Pg {
    fn connect(url: &str) -> std::result::Result<Pg, String> {
        let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| e.to_string())?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("wxsec");
        }
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (ready, is_ready) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("wxsec-postgres".into())
            .spawn(move || match config.connect(postgres::NoTls) {
                Ok(client) => {
                    let _ = ready.send(Ok(()));
                    let mut conn = PgConn { client, prepared: HashMap::new() };
                    for job in inbox {
                        job(&mut conn);
                    }
                }
                Err(e) => {
                    let _ = ready.send(Err(describe(&e)));
                }
            })
            .map_err(|e| e.to_string())?;
        is_ready.recv().map_err(|_| "the connection's thread ended".to_string())??;
        Ok(Pg { jobs })
    }

    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut PgConn) -> std::result::Result<T, String> + Send + 'static,
    ) -> std::result::Result<T, String> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.jobs
            .send(Box::new(move |c| {
                let _ = tx.send(f(c));
            }))
            .map_err(|_| "the connection's thread ended".to_string())?;
        rx.recv().map_err(|_| "the connection's thread ended".to_string())?
    }
}
