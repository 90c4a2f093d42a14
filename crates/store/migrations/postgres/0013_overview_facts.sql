-- The dashboard's commerce overview (overview.rs) aggregates narrow rows derived from the
-- commerce records, so that a year of a large store is summed from indexes instead of
-- parsing every order's JSON. A trigger on commerce_records keeps them in step in the same
-- transaction as every write, deletion mark and delete; migrations/sqlite has the same
-- tables and triggers. See the SQLite file for what each column means.

CREATE TABLE overview_orders (
    connection_id    TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    order_id         TEXT NOT NULL,
    local_date       TEXT,
    valid            BOOLEAN NOT NULL,
    currency         TEXT,
    conversion_rate  DOUBLE PRECISION NOT NULL,
    total_amount     DOUBLE PRECISION NOT NULL,
    country          TEXT,
    customer_id      TEXT,
    PRIMARY KEY (connection_id, order_id)
);
CREATE INDEX overview_orders_day ON overview_orders (connection_id, local_date, valid, total_amount, conversion_rate, currency, country, customer_id);
CREATE INDEX overview_orders_customer ON overview_orders (connection_id, customer_id, valid, local_date);

CREATE TABLE overview_lines (
    connection_id    TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    order_id         TEXT NOT NULL,
    position         BIGINT NOT NULL,
    local_date       TEXT,
    valid            BOOLEAN NOT NULL,
    conversion_rate  DOUBLE PRECISION NOT NULL,
    product_id       TEXT,
    product_name     TEXT,
    quantity         DOUBLE PRECISION NOT NULL,
    total_amount     DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (connection_id, order_id, position)
);
CREATE INDEX overview_lines_day ON overview_lines (connection_id, local_date, valid, product_id, quantity, total_amount, conversion_rate, product_name);

CREATE TABLE overview_money (
    connection_id    TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    data_type        TEXT NOT NULL,
    record_id        TEXT NOT NULL,
    kind             TEXT NOT NULL,
    local_date       TEXT,
    method           TEXT,
    currency         TEXT,
    conversion_rate  DOUBLE PRECISION NOT NULL,
    amount           DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (connection_id, data_type, record_id)
);
CREATE INDEX overview_money_day ON overview_money (connection_id, kind, local_date, method, amount, conversion_rate, currency);

-- A JSON number (or numeric string) as a double; NULL for anything else, so that a record
-- with an odd value is still written.
CREATE FUNCTION overview_number(value JSONB) RETURNS DOUBLE PRECISION
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN jsonb_typeof(value) = 'number' THEN (value #>> '{}')::double precision
        WHEN jsonb_typeof(value) = 'string'
             AND (value #>> '{}') ~ '^\s*[-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?\s*$'
            THEN (value #>> '{}')::double precision
    END
$$;

-- The shop-local day of an offset-qualified timestamp (its first ten characters).
CREATE FUNCTION overview_day(value TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}' THEN substr(value, 1, 10) END
$$;

CREATE FUNCTION overview_refresh() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r commerce_records;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF OLD.data_type = 'commerce-orders' THEN
            DELETE FROM overview_orders WHERE connection_id = OLD.connection_id AND order_id = OLD.id;
            DELETE FROM overview_lines WHERE connection_id = OLD.connection_id AND order_id = OLD.id;
        ELSIF OLD.data_type IN ('commerce-payments', 'commerce-transactions') THEN
            DELETE FROM overview_money WHERE connection_id = OLD.connection_id
                AND data_type = OLD.data_type AND record_id = OLD.id;
        END IF;
    END IF;
    IF TG_OP = 'DELETE' OR NEW.deleted THEN
        RETURN NULL;
    END IF;
    r := NEW;
    IF r.data_type = 'commerce-orders' THEN
        INSERT INTO overview_orders VALUES (
            r.connection_id, r.id,
            overview_day(r.data ->> 'createdDate'),
            coalesce(r.data #> '{supplementalData,content,valid}' <> 'false'::jsonb, TRUE),
            r.data ->> 'currency',
            coalesce(nullif(overview_number(r.data #> '{supplementalData,content,conversionRate}'), 0), 1),
            coalesce(overview_number(r.data -> 'totalAmount'), 0),
            r.data ->> 'country',
            r.data #>> '{customerRef,id}');
        INSERT INTO overview_lines
        SELECT o.connection_id, o.order_id, line.position - 1, o.local_date, o.valid, o.conversion_rate,
               line.value #>> '{productRef,id}',
               line.value #>> '{productRef,name}',
               coalesce(overview_number(line.value -> 'quantity'), 0),
               coalesce(overview_number(line.value -> 'totalAmount'), 0)
        FROM overview_orders AS o,
             jsonb_array_elements(CASE WHEN jsonb_typeof(r.data -> 'orderLineItems') = 'array'
                                       THEN r.data -> 'orderLineItems' ELSE '[]'::jsonb END)
                 WITH ORDINALITY AS line (value, position)
        WHERE o.connection_id = r.connection_id AND o.order_id = r.id;
    ELSIF r.data_type = 'commerce-payments' THEN
        INSERT INTO overview_money VALUES (
            r.connection_id, r.data_type, r.id, 'Payment',
            overview_day(r.data ->> 'createdDate'),
            r.data #>> '{paymentMethodRef,name}',
            r.data ->> 'currency',
            coalesce(nullif(overview_number(r.data #> '{supplementalData,content,conversionRate}'), 0), 1),
            coalesce(overview_number(r.data -> 'amount'), 0));
    ELSIF r.data_type = 'commerce-transactions' AND r.data ->> 'type' = 'Refund' THEN
        INSERT INTO overview_money VALUES (
            r.connection_id, r.data_type, r.id, 'Refund',
            overview_day(r.data ->> 'sourceCreatedDate'),
            r.data ->> 'subType',
            r.data ->> 'currency',
            coalesce(nullif(overview_number(r.data #> '{supplementalData,content,conversionRate}'), 0), 1),
            coalesce(overview_number(r.data -> 'totalAmount'), 0));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER overview_refresh AFTER INSERT OR UPDATE OR DELETE ON commerce_records
FOR EACH ROW EXECUTE FUNCTION overview_refresh();

-- Records written before this migration: rewriting a column to itself runs the trigger.
UPDATE commerce_records SET deleted = deleted
WHERE data_type IN ('commerce-orders', 'commerce-payments', 'commerce-transactions');
