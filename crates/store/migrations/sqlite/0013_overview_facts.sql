-- The dashboard's commerce overview (overview.rs) aggregates narrow rows derived from the
-- commerce records, so that a year of a large store is summed from indexes instead of
-- parsing every order's JSON (a full JSON scan of 100,000 orders costs ~0.5 s per pass).
-- Triggers on commerce_records keep them in step in the same transaction as every write,
-- deletion mark and delete; migrations/postgres has the same tables and a trigger function.
--
-- local_date is the record's date in the shop's time zone (YYYY-MM-DD): the mapping writes
-- createdDate (orders, payments) and sourceCreatedDate (transactions) with the shop's offset,
-- so their first ten characters are the shop-local day. Amounts are in the record's own
-- currency; conversion_rate is PrestaShop's rate of that currency to the shop's default one
-- (amount / rate = amount in the default currency), 1 when missing or zero.

-- One row per live order.
CREATE TABLE overview_orders (
    connection_id    TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    order_id         TEXT NOT NULL,
    local_date       TEXT,
    valid            BOOLEAN NOT NULL,
    currency         TEXT,
    conversion_rate  REAL NOT NULL,
    total_amount     REAL NOT NULL,
    country          TEXT,
    customer_id      TEXT,
    PRIMARY KEY (connection_id, order_id)
);
-- Covers the per-day sums, countries and the period's customers.
CREATE INDEX overview_orders_day ON overview_orders (connection_id, local_date, valid, total_amount, conversion_rate, currency, country, customer_id);
-- A customer's first valid order (new or returning).
CREATE INDEX overview_orders_customer ON overview_orders (connection_id, customer_id, valid, local_date);

-- One row per line of a live order (position = index in orderLineItems).
CREATE TABLE overview_lines (
    connection_id    TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    order_id         TEXT NOT NULL,
    position         BIGINT NOT NULL,
    local_date       TEXT,
    valid            BOOLEAN NOT NULL,
    conversion_rate  REAL NOT NULL,
    product_id       TEXT,
    product_name     TEXT,
    quantity         REAL NOT NULL,
    total_amount     REAL NOT NULL,
    PRIMARY KEY (connection_id, order_id, position)
);
CREATE INDEX overview_lines_day ON overview_lines (connection_id, local_date, valid, product_id, quantity, total_amount, conversion_rate, product_name);

-- Money moved: one row per live payment (commerce-payments, kind 'Payment', method = its
-- payment method's name) and per live refund transaction (commerce-transactions of type
-- Refund, kind 'Refund', method = its subType).
CREATE TABLE overview_money (
    connection_id    TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    data_type        TEXT NOT NULL,
    record_id        TEXT NOT NULL,
    kind             TEXT NOT NULL,
    local_date       TEXT,
    method           TEXT,
    currency         TEXT,
    conversion_rate  REAL NOT NULL,
    amount           REAL NOT NULL,
    PRIMARY KEY (connection_id, data_type, record_id)
);
CREATE INDEX overview_money_day ON overview_money (connection_id, kind, local_date, method, amount, conversion_rate, currency);

-- Orders. The same body runs after an insert and after an update (the old rows go first).
CREATE TRIGGER overview_orders_insert AFTER INSERT ON commerce_records
WHEN NEW.data_type = 'commerce-orders'
BEGIN
    DELETE FROM overview_orders WHERE connection_id = NEW.connection_id AND order_id = NEW.id;
    DELETE FROM overview_lines WHERE connection_id = NEW.connection_id AND order_id = NEW.id;
    INSERT INTO overview_orders
    SELECT NEW.connection_id, NEW.id,
           CASE WHEN json_extract(NEW.data, '$.createdDate') GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'
                THEN substr(json_extract(NEW.data, '$.createdDate'), 1, 10) END,
           coalesce(json_extract(NEW.data, '$.supplementalData.content.valid'), 1) <> 0,
           json_extract(NEW.data, '$.currency'),
           coalesce(nullif(CAST(json_extract(NEW.data, '$.supplementalData.content.conversionRate') AS REAL), 0), 1),
           coalesce(CAST(json_extract(NEW.data, '$.totalAmount') AS REAL), 0),
           json_extract(NEW.data, '$.country'),
           json_extract(NEW.data, '$.customerRef.id')
    WHERE NOT NEW.deleted;
    INSERT INTO overview_lines
    SELECT NEW.connection_id, NEW.id, line.key, o.local_date, o.valid, o.conversion_rate,
           json_extract(line.value, '$.productRef.id'),
           json_extract(line.value, '$.productRef.name'),
           coalesce(CAST(json_extract(line.value, '$.quantity') AS REAL), 0),
           coalesce(CAST(json_extract(line.value, '$.totalAmount') AS REAL), 0)
    FROM overview_orders AS o, json_each(CASE WHEN json_type(NEW.data, '$.orderLineItems') = 'array'
                                        THEN json_extract(NEW.data, '$.orderLineItems') ELSE '[]' END) AS line
    WHERE o.connection_id = NEW.connection_id AND o.order_id = NEW.id;
END;

CREATE TRIGGER overview_orders_update AFTER UPDATE ON commerce_records
WHEN NEW.data_type = 'commerce-orders'
BEGIN
    DELETE FROM overview_orders WHERE connection_id = NEW.connection_id AND order_id = NEW.id;
    DELETE FROM overview_lines WHERE connection_id = NEW.connection_id AND order_id = NEW.id;
    INSERT INTO overview_orders
    SELECT NEW.connection_id, NEW.id,
           CASE WHEN json_extract(NEW.data, '$.createdDate') GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'
                THEN substr(json_extract(NEW.data, '$.createdDate'), 1, 10) END,
           coalesce(json_extract(NEW.data, '$.supplementalData.content.valid'), 1) <> 0,
           json_extract(NEW.data, '$.currency'),
           coalesce(nullif(CAST(json_extract(NEW.data, '$.supplementalData.content.conversionRate') AS REAL), 0), 1),
           coalesce(CAST(json_extract(NEW.data, '$.totalAmount') AS REAL), 0),
           json_extract(NEW.data, '$.country'),
           json_extract(NEW.data, '$.customerRef.id')
    WHERE NOT NEW.deleted;
    INSERT INTO overview_lines
    SELECT NEW.connection_id, NEW.id, line.key, o.local_date, o.valid, o.conversion_rate,
           json_extract(line.value, '$.productRef.id'),
           json_extract(line.value, '$.productRef.name'),
           coalesce(CAST(json_extract(line.value, '$.quantity') AS REAL), 0),
           coalesce(CAST(json_extract(line.value, '$.totalAmount') AS REAL), 0)
    FROM overview_orders AS o, json_each(CASE WHEN json_type(NEW.data, '$.orderLineItems') = 'array'
                                        THEN json_extract(NEW.data, '$.orderLineItems') ELSE '[]' END) AS line
    WHERE o.connection_id = NEW.connection_id AND o.order_id = NEW.id;
END;

-- Payments and refunds.
CREATE TRIGGER overview_money_insert AFTER INSERT ON commerce_records
WHEN NEW.data_type IN ('commerce-payments', 'commerce-transactions')
BEGIN
    DELETE FROM overview_money WHERE connection_id = NEW.connection_id AND data_type = NEW.data_type AND record_id = NEW.id;
    INSERT INTO overview_money
    SELECT NEW.connection_id, NEW.data_type, NEW.id,
           CASE WHEN NEW.data_type = 'commerce-payments' THEN 'Payment' ELSE 'Refund' END,
           CASE WHEN d GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' THEN substr(d, 1, 10) END,
           CASE WHEN NEW.data_type = 'commerce-payments'
                THEN json_extract(NEW.data, '$.paymentMethodRef.name')
                ELSE json_extract(NEW.data, '$.subType') END,
           json_extract(NEW.data, '$.currency'),
           coalesce(nullif(CAST(json_extract(NEW.data, '$.supplementalData.content.conversionRate') AS REAL), 0), 1),
           coalesce(CAST(json_extract(NEW.data, CASE WHEN NEW.data_type = 'commerce-payments'
                                                     THEN '$.amount' ELSE '$.totalAmount' END) AS REAL), 0)
    FROM (SELECT json_extract(NEW.data, CASE WHEN NEW.data_type = 'commerce-payments'
                                             THEN '$.createdDate' ELSE '$.sourceCreatedDate' END) AS d)
    WHERE NOT NEW.deleted
      AND (NEW.data_type = 'commerce-payments' OR json_extract(NEW.data, '$.type') = 'Refund');
END;

CREATE TRIGGER overview_money_update AFTER UPDATE ON commerce_records
WHEN NEW.data_type IN ('commerce-payments', 'commerce-transactions')
BEGIN
    DELETE FROM overview_money WHERE connection_id = NEW.connection_id AND data_type = NEW.data_type AND record_id = NEW.id;
    INSERT INTO overview_money
    SELECT NEW.connection_id, NEW.data_type, NEW.id,
           CASE WHEN NEW.data_type = 'commerce-payments' THEN 'Payment' ELSE 'Refund' END,
           CASE WHEN d GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' THEN substr(d, 1, 10) END,
           CASE WHEN NEW.data_type = 'commerce-payments'
                THEN json_extract(NEW.data, '$.paymentMethodRef.name')
                ELSE json_extract(NEW.data, '$.subType') END,
           json_extract(NEW.data, '$.currency'),
           coalesce(nullif(CAST(json_extract(NEW.data, '$.supplementalData.content.conversionRate') AS REAL), 0), 1),
           coalesce(CAST(json_extract(NEW.data, CASE WHEN NEW.data_type = 'commerce-payments'
                                                     THEN '$.amount' ELSE '$.totalAmount' END) AS REAL), 0)
    FROM (SELECT json_extract(NEW.data, CASE WHEN NEW.data_type = 'commerce-payments'
                                             THEN '$.createdDate' ELSE '$.sourceCreatedDate' END) AS d)
    WHERE NOT NEW.deleted
      AND (NEW.data_type = 'commerce-payments' OR json_extract(NEW.data, '$.type') = 'Refund');
END;

CREATE TRIGGER overview_delete AFTER DELETE ON commerce_records
WHEN OLD.data_type IN ('commerce-orders', 'commerce-payments', 'commerce-transactions')
BEGIN
    DELETE FROM overview_orders WHERE connection_id = OLD.connection_id AND order_id = OLD.id AND OLD.data_type = 'commerce-orders';
    DELETE FROM overview_lines WHERE connection_id = OLD.connection_id AND order_id = OLD.id AND OLD.data_type = 'commerce-orders';
    DELETE FROM overview_money WHERE connection_id = OLD.connection_id AND data_type = OLD.data_type AND record_id = OLD.id;
END;

-- Records written before this migration: rewriting a column to itself runs the triggers.
UPDATE commerce_records SET deleted = deleted
WHERE data_type IN ('commerce-orders', 'commerce-payments', 'commerce-transactions');
