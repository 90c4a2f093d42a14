//! Pull operations (Codat's datasets): one row per data type per requested sync, created
//! when the sync is queued (manually, by the schedule or on first link) and updated by the
//! worker that runs it. Also the connection errors shown as `dataConnectionErrors`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use crate::error::Result;
use crate::paging::JsonTable;
use crate::time::format_timestamp;
use crate::{new_id, on_pool, Db, Store};

/// Statuses of a pull operation that are not final.
pub const DATASET_ACTIVE: [&str; 3] = ["Queued", "Fetching", "Mapping"];

/// A pull operation as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dataset {
    /// Random UUID.
    pub id: String,
    /// The company.
    pub company_id: String,
    /// The connection read.
    pub connection_id: String,
    /// The data type.
    pub data_type: String,
    /// Codat's status (`Queued`, `Fetching`, `Mapping`, `Complete`, `FetchError`, …).
    pub status: String,
    /// What the status means here.
    pub status_description: Option<String>,
    /// Why it failed.
    pub error_message: Option<String>,
    /// When it was requested.
    pub requested: String,
    /// When it ended.
    pub completed: Option<String>,
    /// 0 to 100.
    pub progress: i64,
    /// Records written by it.
    pub records_modified: i64,
    /// The connection's first sync of this data type.
    pub initial: bool,
    /// `manual`, `schedule` or `firstLink`.
    pub trigger: String,
    /// The job that runs it.
    pub job_id: Option<i64>,
    /// The sync run that ran it.
    pub run_id: Option<String>,
}

/// A change to a pull operation.
#[derive(Debug, Clone, Default)]
pub struct DatasetUpdate<'a> {
    /// New status.
    pub status: Option<&'a str>,
    /// New description.
    pub status_description: Option<&'a str>,
    /// Error message.
    pub error_message: Option<&'a str>,
    /// Progress, 0 to 100.
    pub progress: Option<i64>,
    /// Records written.
    pub records_modified: Option<i64>,
    /// The sync run.
    pub run_id: Option<&'a str>,
    /// Whether it ended now.
    pub completed: bool,
}

/// A connection error (Codat's `dataConnectionErrors` entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionError {
    /// Machine code of the failure (e.g. `invalid_key`).
    pub status_code: String,
    /// Short text of it.
    pub status_text: String,
    /// What happened, in the merchant's terms.
    pub error_message: String,
    /// When it happened.
    pub errored_on_utc: String,
    /// When it stopped (the connection was linked again).
    pub resolved_on_utc: Option<String>,
}

const DATASET_COLUMNS: &str = "id, company_id, connection_id, data_type, status, \
    status_description, error_message, requested, completed, progress, records_modified, \
    initial, trigger_kind, job_id, run_id";

impl Store {
    /// Records a requested pull operation.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_dataset(
        &self,
        company_id: &str,
        connection_id: &str,
        data_type: &str,
        status: &str,
        trigger: &str,
        initial: bool,
        job_id: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Dataset> {
        let id = new_id();
        let sql = format!(
            "INSERT INTO datasets ({DATASET_COLUMNS}) VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6, \
             NULL, 0, 0, $7, $8, $9, NULL)"
        );
        on_pool!(&self.db, pool => {
            sqlx::query(&sql)
                .bind(&id)
                .bind(company_id)
                .bind(connection_id)
                .bind(data_type)
                .bind(status)
                .bind(format_timestamp(now))
                .bind(initial)
                .bind(trigger)
                .bind(job_id)
                .execute(pool)
                .await?;
        });
        Ok(self.get_dataset(&id).await?.expect("dataset just inserted"))
    }

    /// A pull operation by id.
    pub async fn get_dataset(&self, id: &str) -> Result<Option<Dataset>> {
        let sql = format!("SELECT {DATASET_COLUMNS} FROM datasets WHERE id = $1");
        on_pool!(&self.db, pool => {
            let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await?;
            row.map(|r| read_dataset(&r)).transpose()
        })
    }

    /// The pull operations a job runs.
    pub async fn datasets_of_job(&self, job_id: i64) -> Result<Vec<Dataset>> {
        let sql =
            format!("SELECT {DATASET_COLUMNS} FROM datasets WHERE job_id = $1 ORDER BY data_type");
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(&sql).bind(job_id).fetch_all(pool).await?;
            rows.iter().map(read_dataset).collect()
        })
    }

    /// The connection's pull operations not yet ended, for the data types given (all if empty).
    pub async fn active_datasets(&self, connection_id: &str) -> Result<Vec<Dataset>> {
        let sql = format!(
            "SELECT {DATASET_COLUMNS} FROM datasets WHERE connection_id = $1 \
             AND status IN ('Queued', 'Fetching', 'Mapping') ORDER BY requested, id"
        );
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(&sql).bind(connection_id).fetch_all(pool).await?;
            rows.iter().map(read_dataset).collect()
        })
    }

    /// The newest pull operation of each data type of a connection.
    pub async fn latest_datasets(&self, connection_id: &str) -> Result<Vec<Dataset>> {
        let sql = format!(
            "SELECT {DATASET_COLUMNS} FROM datasets d WHERE connection_id = $1 AND NOT EXISTS \
             (SELECT 1 FROM datasets n WHERE n.connection_id = d.connection_id \
             AND n.data_type = d.data_type AND (n.requested > d.requested \
             OR (n.requested = d.requested AND n.id > d.id))) ORDER BY data_type"
        );
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(&sql).bind(connection_id).fetch_all(pool).await?;
            rows.iter().map(read_dataset).collect()
        })
    }

    /// The newest completed pull operation of each data type of a connection.
    pub async fn latest_complete_datasets(&self, connection_id: &str) -> Result<Vec<Dataset>> {
        let sql = format!(
            "SELECT {DATASET_COLUMNS} FROM datasets d WHERE connection_id = $1 \
             AND status = 'Complete' AND NOT EXISTS (SELECT 1 FROM datasets n \
             WHERE n.connection_id = d.connection_id AND n.data_type = d.data_type \
             AND n.status = 'Complete' AND (n.completed > d.completed \
             OR (n.completed = d.completed AND n.id > d.id))) ORDER BY data_type"
        );
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(&sql).bind(connection_id).fetch_all(pool).await?;
            rows.iter().map(read_dataset).collect()
        })
    }

    /// Applies a change to a pull operation that has not ended: an ended one (completed,
    /// whatever its status) is never reopened, so a late progress write of a worker whose
    /// job was taken over cannot undo the outcome its new holder recorded.
    pub async fn update_dataset(
        &self,
        id: &str,
        update: &DatasetUpdate<'_>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let completed = update.completed.then(|| format_timestamp(now));
        on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE datasets SET status = COALESCE($2, status), \
                 status_description = COALESCE($3, status_description), \
                 error_message = COALESCE($4, error_message), progress = COALESCE($5, progress), \
                 records_modified = COALESCE($6, records_modified), run_id = COALESCE($7, run_id), \
                 completed = COALESCE($8, completed) WHERE id = $1 AND completed IS NULL",
            )
            .bind(id)
            .bind(update.status)
            .bind(update.status_description)
            .bind(update.error_message)
            .bind(update.progress)
            .bind(update.records_modified)
            .bind(update.run_id)
            .bind(completed)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Puts the active pull operations of a job back in the queue (its worker stopped).
    pub async fn requeue_datasets_of_job(&self, job_id: i64) -> Result<()> {
        self.requeue_datasets_of_job_with(
            job_id,
            "Waiting for a worker (the previous one stopped; the sync resumes from its checkpoints)",
        )
        .await
    }

    /// [`Store::requeue_datasets_of_job`] with a description of why (a yield, a retry).
    pub async fn requeue_datasets_of_job_with(&self, job_id: i64, description: &str) -> Result<()> {
        on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE datasets SET status = 'Queued', status_description = $2 \
                 WHERE job_id = $1 AND status IN ('Queued', 'Fetching', 'Mapping')",
            )
            .bind(job_id)
            .bind(description)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The table of a company's pull operations, as Codat's PullOperation JSON.
    pub fn datasets_table<'a>(&self, company_id: &'a str) -> JsonTable<'a> {
        let object = match self.db {
            Db::Sqlite(_) => {
                "json_object('id', id, 'companyId', company_id, 'connectionId', connection_id, \
                 'dataType', data_type, 'status', status, 'statusDescription', status_description, \
                 'errorMessage', error_message, 'requested', requested, 'completed', completed, \
                 'progress', progress, 'isCompleted', json(CASE WHEN status = 'Complete' THEN 'true' ELSE 'false' END), \
                 'isErrored', json(CASE WHEN status LIKE '%Error' THEN 'true' ELSE 'false' END))"
            }
            Db::Postgres(_) => {
                "jsonb_build_object('id', id, 'companyId', company_id, 'connectionId', connection_id, \
                 'dataType', data_type, 'status', status, 'statusDescription', status_description, \
                 'errorMessage', error_message, 'requested', requested, 'completed', completed, \
                 'progress', progress, 'isCompleted', status = 'Complete', \
                 'isErrored', status LIKE '%Error')"
            }
        };
        JsonTable {
            from: format!(
                "(SELECT id, company_id, {object} AS data, requested AS modified_date, \
                 FALSE AS deleted FROM datasets) AS t"
            ),
            scope: "company_id = $1".to_string(),
            binds: vec![company_id],
        }
    }

    /// Records a connection error.
    pub async fn add_connection_error(
        &self,
        connection_id: &str,
        status_code: &str,
        status_text: &str,
        message: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO connection_errors (connection_id, status_code, status_text, \
                 error_message, errored_on) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(connection_id)
            .bind(status_code)
            .bind(status_text)
            .bind(message)
            .bind(format_timestamp(now))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Marks the connection's open errors resolved (it was linked again).
    pub async fn resolve_connection_errors(
        &self,
        connection_id: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE connection_errors SET resolved_on = $2 WHERE connection_id = $1 \
                 AND resolved_on IS NULL",
            )
            .bind(connection_id)
            .bind(format_timestamp(now))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The connection's errors, newest first (at most 20).
    pub async fn connection_errors(&self, connection_id: &str) -> Result<Vec<ConnectionError>> {
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(
                "SELECT status_code, status_text, error_message, errored_on, resolved_on \
                 FROM connection_errors WHERE connection_id = $1 ORDER BY id DESC LIMIT 20",
            )
            .bind(connection_id)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(ConnectionError {
                        status_code: r.try_get(0)?,
                        status_text: r.try_get(1)?,
                        error_message: r.try_get(2)?,
                        errored_on_utc: r.try_get(3)?,
                        resolved_on_utc: r.try_get(4)?,
                    })
                })
                .collect()
        })
    }
}

fn read_dataset<R: Row>(row: &R) -> Result<Dataset>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(Dataset {
        id: row.try_get(0)?,
        company_id: row.try_get(1)?,
        connection_id: row.try_get(2)?,
        data_type: row.try_get(3)?,
        status: row.try_get(4)?,
        status_description: row.try_get(5)?,
        error_message: row.try_get(6)?,
        requested: row.try_get(7)?,
        completed: row.try_get(8)?,
        progress: row.try_get(9)?,
        records_modified: row.try_get(10)?,
        initial: row.try_get(11)?,
        trigger: row.try_get(12)?,
        job_id: row.try_get(13)?,
        run_id: row.try_get(14)?,
    })
}
