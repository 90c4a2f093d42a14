//! Companies and their connections to PrestaShop stores. A connection's Webservice key is
//! stored encrypted (see [`crate::crypto`]) and only ever shown masked.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;

use crate::crypto::{key_hint, masked_key, MasterKey};
use crate::error::{Result, StoreError};
use crate::paging::JsonTable;
use crate::records::parse_json;
use crate::time::format_timestamp;
use crate::{new_id, on_pool, Db, Store};

/// A company: the owner of one or more connections (Codat's "company").
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Company {
    /// Random UUID.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Free text about the company.
    pub description: Option<String>,
    /// Tags (a JSON object of string values), e.g. `{"region": "eu"}`.
    pub tags: Value,
    /// When it was created.
    pub created_at: String,
}

const COMPANY_COLUMNS: &str = "id, name, description, tags, created_at";

/// Who a connection belongs to, as an API request's path names it
/// ([`Store::connection_owner`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionOwner {
    /// The company exists and the connection is one of its own.
    Owned,
    /// No such company.
    NoCompany,
    /// The company exists; the connection does not, or belongs to another company.
    NoConnection,
}

/// Whether a connection can be read, in Codat's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ConnectionStatus {
    /// Created or given a new key that has not been verified yet.
    PendingAuth,
    /// Verified: syncs run.
    Linked,
    /// The key stopped working (revoked, permissions removed): the user must re-link.
    Deauthorized,
    /// Switched off by the user.
    Unlinked,
}

impl ConnectionStatus {
    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::PendingAuth => "PendingAuth",
            ConnectionStatus::Linked => "Linked",
            ConnectionStatus::Deauthorized => "Deauthorized",
            ConnectionStatus::Unlinked => "Unlinked",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "Linked" => ConnectionStatus::Linked,
            "Deauthorized" => ConnectionStatus::Deauthorized,
            "Unlinked" => ConnectionStatus::Unlinked,
            _ => ConnectionStatus::PendingAuth,
        }
    }
}

/// A connection to one PrestaShop store, without its key.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    /// Random UUID.
    pub id: String,
    /// The owning company.
    pub company_id: String,
    /// The store URL as linked.
    pub store_url: String,
    /// Link status.
    pub status: ConnectionStatus,
    /// Why the status is what it is (e.g. the error that deauthorized it).
    pub status_reason: Option<String>,
    /// The Webservice key masked for display, e.g. `****…WXYZ`.
    pub key_masked: String,
    /// What was discovered at link time (auth mode, URL form, format, version…), opaque.
    pub settings: Value,
    /// The last good pacer settings for this store, opaque.
    pub pacer_settings: Option<Value>,
    /// When it was created.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

const CONNECTION_COLUMNS: &str = "id, company_id, store_url, status, status_reason, key_hint, \
                                  settings, pacer_settings, created_at, updated_at";

impl Store {
    fn master_key(&self) -> Result<&MasterKey> {
        self.master_key.as_ref().ok_or(StoreError::MasterKeyMissing)
    }

    /// Creates a company.
    pub async fn create_company(&self, name: &str, now: DateTime<Utc>) -> Result<Company> {
        self.create_company_with(name, None, &Value::Object(Default::default()), now)
            .await
    }

    /// Creates a company with a description and tags (a JSON object).
    pub async fn create_company_with(
        &self,
        name: &str,
        description: Option<&str>,
        tags: &Value,
        now: DateTime<Utc>,
    ) -> Result<Company> {
        let company = Company {
            id: new_id(),
            name: name.to_string(),
            description: description.map(str::to_string),
            tags: tags.clone(),
            created_at: format_timestamp(now),
        };
        on_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO companies (id, name, description, tags, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&company.id)
            .bind(&company.name)
            .bind(&company.description)
            .bind(company.tags.to_string())
            .bind(&company.created_at)
            .execute(pool)
            .await?;
        });
        Ok(company)
    }

    /// Replaces a company's name, description and tags; `false` when it does not exist.
    pub async fn update_company(
        &self,
        id: &str,
        name: &str,
        description: Option<&str>,
        tags: &Value,
    ) -> Result<bool> {
        on_pool!(&self.db, pool => {
            let done = sqlx::query(
                "UPDATE companies SET name = $2, description = $3, tags = $4 WHERE id = $1",
            )
            .bind(id)
            .bind(name)
            .bind(description)
            .bind(tags.to_string())
            .execute(pool)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// The companies as a [`JsonTable`] of `{id, name, description, tags, created}`, for the
    /// API's paged and queryable list.
    pub fn companies_table(&self) -> JsonTable<'static> {
        let object = match self.db {
            Db::Sqlite(_) => {
                "json_object('id', id, 'name', name, 'description', description, \
                 'tags', json(tags), 'created', created_at)"
            }
            Db::Postgres(_) => {
                "jsonb_build_object('id', id, 'name', name, 'description', description, \
                 'tags', tags::jsonb, 'created', created_at)"
            }
        };
        JsonTable {
            from: format!(
                "(SELECT id, {object} AS data, created_at AS modified_date, FALSE AS deleted \
                 FROM companies) AS t"
            ),
            scope: "TRUE".to_string(),
            binds: Vec::new(),
        }
    }

    /// A company's connections as a [`JsonTable`] of `{id, status, storeUrl, created}`.
    pub fn connections_table<'a>(&self, company_id: &'a str) -> JsonTable<'a> {
        let object = match self.db {
            Db::Sqlite(_) => {
                "json_object('id', id, 'status', status, 'storeUrl', store_url, 'created', created_at)"
            }
            Db::Postgres(_) => {
                "jsonb_build_object('id', id, 'status', status, 'storeUrl', store_url, 'created', created_at)"
            }
        };
        JsonTable {
            from: format!(
                "(SELECT id, company_id, {object} AS data, created_at AS modified_date, \
                 FALSE AS deleted FROM connections) AS t"
            ),
            scope: "company_id = $1".to_string(),
            binds: vec![company_id],
        }
    }

    /// A company by id.
    pub async fn get_company(&self, id: &str) -> Result<Option<Company>> {
        let sql = format!("SELECT {COMPANY_COLUMNS} FROM companies WHERE id = $1");
        on_pool!(&self.db, pool => {
            let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await?;
            row.map(|r| read_company(&r)).transpose()
        })
    }

    /// All companies, oldest first.
    pub async fn list_companies(&self) -> Result<Vec<Company>> {
        let sql = format!("SELECT {COMPANY_COLUMNS} FROM companies ORDER BY created_at, id");
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(&sql).fetch_all(pool).await?;
            rows.iter().map(read_company).collect()
        })
    }

    /// The company's connection to `store_url`, created if missing. The key is encrypted;
    /// if the connection exists with another key, the key is replaced and the status goes
    /// back to `PendingAuth` until the new key is verified.
    pub async fn create_or_get_connection(
        &self,
        company_id: &str,
        store_url: &str,
        webservice_key: &str,
        now: DateTime<Utc>,
    ) -> Result<Connection> {
        let master_key = self.master_key()?;
        let now_text = format_timestamp(now);
        let existing = self.find_connection(company_id, store_url).await?;
        if let Some(existing) = existing {
            // A key that does not decrypt is an error, never a reason to seal the new one
            // under whatever master key is in use (the check value is verified at open).
            let current = self.decrypt_key(&existing.id).await?;
            if current != webservice_key {
                let sealed = master_key.encrypt(webservice_key, &existing.id);
                on_pool!(&self.db, pool => {
                    sqlx::query(
                        "UPDATE connections SET key_ciphertext = $1, key_fingerprint = $2, \
                         key_hint = $3, status = $4, status_reason = NULL, updated_at = $5 \
                         WHERE id = $6",
                    )
                    .bind(sealed)
                    .bind(master_key.fingerprint())
                    .bind(key_hint(webservice_key))
                    .bind(ConnectionStatus::PendingAuth.as_str())
                    .bind(&now_text)
                    .bind(&existing.id)
                    .execute(pool)
                    .await?;
                });
            }
            return self.require_connection(&existing.id).await;
        }
        let id = new_id();
        let sealed = master_key.encrypt(webservice_key, &id);
        on_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO connections (id, company_id, store_url, key_ciphertext, \
                 key_fingerprint, key_hint, status, settings, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, '{}', $8, $8) \
                 ON CONFLICT (company_id, store_url) DO NOTHING",
            )
            .bind(&id)
            .bind(company_id)
            .bind(store_url)
            .bind(sealed)
            .bind(master_key.fingerprint())
            .bind(key_hint(webservice_key))
            .bind(ConnectionStatus::PendingAuth.as_str())
            .bind(&now_text)
            .execute(pool)
            .await?;
        });
        // A concurrent call may have won the insert: return whichever row exists.
        match self.find_connection(company_id, store_url).await? {
            Some(connection) => Ok(connection),
            None => Err(StoreError::NotFound {
                what: "company",
                id: company_id.to_string(),
            }),
        }
    }

    async fn find_connection(
        &self,
        company_id: &str,
        store_url: &str,
    ) -> Result<Option<Connection>> {
        let sql = format!(
            "SELECT {CONNECTION_COLUMNS} FROM connections WHERE company_id = $1 AND store_url = $2"
        );
        on_pool!(&self.db, pool => {
            let row = sqlx::query(&sql).bind(company_id).bind(store_url).fetch_optional(pool).await?;
            row.map(|r| read_connection(&r)).transpose()
        })
    }

    async fn require_connection(&self, id: &str) -> Result<Connection> {
        self.get_connection(id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "connection",
                id: id.to_string(),
            })
    }

    /// A connection by id.
    pub async fn get_connection(&self, id: &str) -> Result<Option<Connection>> {
        let sql = format!("SELECT {CONNECTION_COLUMNS} FROM connections WHERE id = $1");
        on_pool!(&self.db, pool => {
            let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await?;
            row.map(|r| read_connection(&r)).transpose()
        })
    }

    /// Whether the company exists and owns the connection, in one statement on the API's read
    /// pool: what every data request checks before it reads a page.
    pub async fn connection_owner(
        &self,
        company_id: &str,
        connection_id: &str,
    ) -> Result<ConnectionOwner> {
        const SQL: &str = "SELECT EXISTS (SELECT 1 FROM companies WHERE id = $1), \
             EXISTS (SELECT 1 FROM connections WHERE id = $2 AND company_id = $1)";
        let (company, owned): (bool, bool) = on_pool!(&self.reads, pool => {
            sqlx::query_as(SQL).bind(company_id).bind(connection_id).fetch_one(pool).await?
        });
        Ok(match (company, owned) {
            (false, _) => ConnectionOwner::NoCompany,
            (true, false) => ConnectionOwner::NoConnection,
            (true, true) => ConnectionOwner::Owned,
        })
    }

    /// Connections of a company, or all connections with `None`, oldest first.
    pub async fn list_connections(&self, company_id: Option<&str>) -> Result<Vec<Connection>> {
        let sql = format!(
            "SELECT {CONNECTION_COLUMNS} FROM connections WHERE ($1 IS NULL OR company_id = $1) \
             ORDER BY created_at, id"
        );
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(&sql).bind(company_id).fetch_all(pool).await?;
            rows.iter().map(read_connection).collect()
        })
    }

    /// The connection's Webservice key in clear, for the client that reads the store. Never
    /// log it.
    pub async fn decrypt_key(&self, connection_id: &str) -> Result<String> {
        let master_key = self.master_key()?;
        let (sealed, fingerprint): (Vec<u8>, String) = on_pool!(&self.db, pool => {
            let row = sqlx::query("SELECT key_ciphertext, key_fingerprint FROM connections WHERE id = $1")
                .bind(connection_id)
                .fetch_optional(pool)
                .await?
                .ok_or_else(|| StoreError::NotFound { what: "connection", id: connection_id.to_string() })?;
            (row.try_get(0)?, row.try_get(1)?)
        });
        master_key
            .decrypt(&sealed, connection_id)
            .ok_or_else(|| StoreError::KeyDecryption {
                connection_id: connection_id.to_string(),
                stored_fingerprint: fingerprint,
                current_fingerprint: master_key.fingerprint().to_string(),
            })
    }

    /// Replaces a connection's Webservice key (encrypted); the status goes back to
    /// `PendingAuth` until the new key is verified. `NotFound` when the connection is gone.
    pub async fn set_connection_key(
        &self,
        connection_id: &str,
        webservice_key: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let master_key = self.master_key()?;
        let sealed = master_key.encrypt(webservice_key, connection_id);
        let affected = on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE connections SET key_ciphertext = $1, key_fingerprint = $2, key_hint = $3, \
                 status = $4, status_reason = NULL, updated_at = $5 WHERE id = $6",
            )
            .bind(sealed)
            .bind(master_key.fingerprint())
            .bind(key_hint(webservice_key))
            .bind(ConnectionStatus::PendingAuth.as_str())
            .bind(format_timestamp(now))
            .bind(connection_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if affected == 0 {
            return Err(StoreError::NotFound {
                what: "connection",
                id: connection_id.to_string(),
            });
        }
        Ok(())
    }

    /// Sets the link status (e.g. `Deauthorized` with the reason when the key is refused).
    pub async fn set_connection_status(
        &self,
        connection_id: &str,
        status: ConnectionStatus,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.update_connection(
            connection_id,
            "status = $2, status_reason = $3",
            &[
                Some(status.as_str().to_string()),
                reason.map(str::to_string),
            ],
            now,
        )
        .await
    }

    /// Replaces what was discovered at link time (auth mode, URL form, format…).
    pub async fn set_connection_settings(
        &self,
        connection_id: &str,
        settings: &Value,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.update_connection(
            connection_id,
            "settings = $2",
            &[Some(settings.to_string())],
            now,
        )
        .await
    }

    /// Remembers the last good pacer settings for the connection's store.
    pub async fn save_pacer_settings(
        &self,
        connection_id: &str,
        pacer_settings: &Value,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.update_connection(
            connection_id,
            "pacer_settings = $2",
            &[Some(pacer_settings.to_string())],
            now,
        )
        .await
    }

    async fn update_connection(
        &self,
        connection_id: &str,
        assignments: &str,
        values: &[Option<String>],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let now_param = values.len() + 2;
        let sql = format!(
            "UPDATE connections SET {assignments}, updated_at = ${now_param} WHERE id = $1"
        );
        let affected = on_pool!(&self.db, pool => {
            let mut q = sqlx::query(&sql).bind(connection_id);
            for v in values {
                q = q.bind(v.clone());
            }
            q.bind(format_timestamp(now)).execute(pool).await?.rows_affected()
        });
        if affected == 0 {
            return Err(StoreError::NotFound {
                what: "connection",
                id: connection_id.to_string(),
            });
        }
        Ok(())
    }

    /// Deletes a company with its connections and everything they hold.
    pub async fn delete_company(&self, company_id: &str) -> Result<bool> {
        on_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM sync_settings WHERE scope = $1")
                .bind(company_id)
                .execute(pool)
                .await?;
            let done = sqlx::query("DELETE FROM companies WHERE id = $1")
                .bind(company_id)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// Deletes a connection with all its records, checkpoints, runs and jobs.
    pub async fn delete_connection(&self, connection_id: &str) -> Result<bool> {
        on_pool!(&self.db, pool => {
            let done = sqlx::query("DELETE FROM connections WHERE id = $1")
                .bind(connection_id)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }
}

fn read_company<R: Row>(row: &R) -> Result<Company>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(Company {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        description: row.try_get(2)?,
        tags: parse_json(row.try_get(3)?, "companies.tags")?,
        created_at: row.try_get(4)?,
    })
}

fn read_connection<R: Row>(row: &R) -> Result<Connection>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = row.try_get(3)?;
    let hint: String = row.try_get(5)?;
    let pacer: Option<String> = row.try_get(7)?;
    Ok(Connection {
        id: row.try_get(0)?,
        company_id: row.try_get(1)?,
        store_url: row.try_get(2)?,
        status: ConnectionStatus::parse(&status),
        status_reason: row.try_get(4)?,
        key_masked: masked_key(&hint),
        settings: parse_json(row.try_get(6)?, "connections.settings")?,
        pacer_settings: pacer
            .map(|p| parse_json(p, "connections.pacer_settings"))
            .transpose()?,
        created_at: row.try_get(8)?,
        updated_at: row.try_get(9)?,
    })
}
