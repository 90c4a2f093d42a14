-- The dashboard's overview reads rollups of migration 0013's rows: valid orders per day,
-- payments and refunds per day, product lines per month, and each customer's orders with
-- the customer's first order day and the day of their previous order. Trigger functions on
-- the 0013 tables keep them in step in the same transaction; migrations/sqlite has the same
-- tables and triggers, and says what each column means. Key columns that stand for a
-- nullable value hold '' for NULL and '=' || value otherwise.

CREATE TABLE overview_order_days (
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    local_date     TEXT NOT NULL,
    country_key    TEXT NOT NULL,
    currency_key   TEXT NOT NULL,
    rate_one       BOOLEAN NOT NULL,
    orders         BIGINT NOT NULL,
    amount         DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (connection_id, local_date, country_key, currency_key, rate_one)
);

CREATE TABLE overview_money_days (
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    local_date     TEXT NOT NULL,
    method_key     TEXT NOT NULL,
    currency_key   TEXT NOT NULL,
    rate_one       BOOLEAN NOT NULL,
    records        BIGINT NOT NULL,
    amount         DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (connection_id, kind, local_date, method_key, currency_key, rate_one)
);

CREATE TABLE overview_product_months (
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    month          TEXT NOT NULL,
    product_key    TEXT NOT NULL,
    name_key       TEXT NOT NULL,
    lines          BIGINT NOT NULL,
    units          DOUBLE PRECISION NOT NULL,
    revenue        DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (connection_id, month, product_key, name_key)
);

CREATE TABLE overview_customer_orders (
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    customer_id    TEXT NOT NULL,
    local_date     TEXT NOT NULL,
    order_id       TEXT NOT NULL,
    amount         DOUBLE PRECISION NOT NULL,
    first_date     TEXT,
    prev_date      TEXT,
    PRIMARY KEY (connection_id, customer_id, local_date, order_id)
);
CREATE INDEX overview_customer_orders_day
    ON overview_customer_orders (connection_id, local_date, first_date, prev_date, amount);

-- A customer's first_date and prev_date, rewritten where they changed.
CREATE FUNCTION overview_customer_refresh(conn TEXT, customer TEXT) RETURNS void
LANGUAGE sql AS $$
    UPDATE overview_customer_orders AS c
    SET first_date = s.first_date, prev_date = s.prev_date
    FROM (SELECT local_date, order_id,
                 MIN(local_date) OVER () AS first_date,
                 LAG(local_date) OVER (ORDER BY local_date, order_id) AS prev_date
          FROM overview_customer_orders
          WHERE connection_id = conn AND customer_id = customer) AS s
    WHERE c.connection_id = conn AND c.customer_id = customer
      AND c.local_date = s.local_date AND c.order_id = s.order_id
      AND (c.first_date IS DISTINCT FROM s.first_date OR c.prev_date IS DISTINCT FROM s.prev_date);
$$;

CREATE FUNCTION overview_rollup_orders() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.valid AND NEW.local_date IS NOT NULL THEN
            INSERT INTO overview_order_days AS d
            VALUES (NEW.connection_id, NEW.local_date, coalesce('=' || NEW.country, ''),
                    coalesce('=' || NEW.currency, ''), NEW.conversion_rate = 1,
                    1, NEW.total_amount / NEW.conversion_rate)
            ON CONFLICT (connection_id, local_date, country_key, currency_key, rate_one)
            DO UPDATE SET orders = d.orders + 1, amount = d.amount + excluded.amount;
            IF NEW.customer_id IS NOT NULL THEN
                INSERT INTO overview_customer_orders
                VALUES (NEW.connection_id, NEW.customer_id, NEW.local_date, NEW.order_id,
                        NEW.total_amount / NEW.conversion_rate, NULL, NULL);
                PERFORM overview_customer_refresh(NEW.connection_id, NEW.customer_id);
            END IF;
        END IF;
        RETURN NULL;
    END IF;
    IF OLD.valid AND OLD.local_date IS NOT NULL THEN
        UPDATE overview_order_days
        SET orders = orders - 1, amount = amount - OLD.total_amount / OLD.conversion_rate
        WHERE connection_id = OLD.connection_id AND local_date = OLD.local_date
          AND country_key = coalesce('=' || OLD.country, '')
          AND currency_key = coalesce('=' || OLD.currency, '')
          AND rate_one = (OLD.conversion_rate = 1);
        DELETE FROM overview_order_days
        WHERE connection_id = OLD.connection_id AND local_date = OLD.local_date
          AND country_key = coalesce('=' || OLD.country, '')
          AND currency_key = coalesce('=' || OLD.currency, '')
          AND rate_one = (OLD.conversion_rate = 1) AND orders <= 0;
        IF OLD.customer_id IS NOT NULL THEN
            DELETE FROM overview_customer_orders
            WHERE connection_id = OLD.connection_id AND customer_id = OLD.customer_id
              AND local_date = OLD.local_date AND order_id = OLD.order_id;
            PERFORM overview_customer_refresh(OLD.connection_id, OLD.customer_id);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER overview_rollup_orders AFTER INSERT OR DELETE ON overview_orders
FOR EACH ROW EXECUTE FUNCTION overview_rollup_orders();

CREATE FUNCTION overview_rollup_lines() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.valid AND NEW.local_date IS NOT NULL THEN
            INSERT INTO overview_product_months AS m
            VALUES (NEW.connection_id, substr(NEW.local_date, 1, 7),
                    coalesce('=' || NEW.product_id, ''), coalesce('=' || NEW.product_name, ''),
                    1, NEW.quantity, NEW.total_amount / NEW.conversion_rate)
            ON CONFLICT (connection_id, month, product_key, name_key)
            DO UPDATE SET lines = m.lines + 1, units = m.units + excluded.units,
                          revenue = m.revenue + excluded.revenue;
        END IF;
        RETURN NULL;
    END IF;
    IF OLD.valid AND OLD.local_date IS NOT NULL THEN
        UPDATE overview_product_months
        SET lines = lines - 1, units = units - OLD.quantity,
            revenue = revenue - OLD.total_amount / OLD.conversion_rate
        WHERE connection_id = OLD.connection_id AND month = substr(OLD.local_date, 1, 7)
          AND product_key = coalesce('=' || OLD.product_id, '')
          AND name_key = coalesce('=' || OLD.product_name, '');
        DELETE FROM overview_product_months
        WHERE connection_id = OLD.connection_id AND month = substr(OLD.local_date, 1, 7)
          AND product_key = coalesce('=' || OLD.product_id, '')
          AND name_key = coalesce('=' || OLD.product_name, '') AND lines <= 0;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER overview_rollup_lines AFTER INSERT OR DELETE ON overview_lines
FOR EACH ROW EXECUTE FUNCTION overview_rollup_lines();

CREATE FUNCTION overview_rollup_money() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.local_date IS NOT NULL THEN
            INSERT INTO overview_money_days AS d
            VALUES (NEW.connection_id, NEW.kind, NEW.local_date, coalesce('=' || NEW.method, ''),
                    coalesce('=' || NEW.currency, ''), NEW.conversion_rate = 1,
                    1, NEW.amount / NEW.conversion_rate)
            ON CONFLICT (connection_id, kind, local_date, method_key, currency_key, rate_one)
            DO UPDATE SET records = d.records + 1, amount = d.amount + excluded.amount;
        END IF;
        RETURN NULL;
    END IF;
    IF OLD.local_date IS NOT NULL THEN
        UPDATE overview_money_days
        SET records = records - 1, amount = amount - OLD.amount / OLD.conversion_rate
        WHERE connection_id = OLD.connection_id AND kind = OLD.kind
          AND local_date = OLD.local_date AND method_key = coalesce('=' || OLD.method, '')
          AND currency_key = coalesce('=' || OLD.currency, '')
          AND rate_one = (OLD.conversion_rate = 1);
        DELETE FROM overview_money_days
        WHERE connection_id = OLD.connection_id AND kind = OLD.kind
          AND local_date = OLD.local_date AND method_key = coalesce('=' || OLD.method, '')
          AND currency_key = coalesce('=' || OLD.currency, '')
          AND rate_one = (OLD.conversion_rate = 1) AND records <= 0;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER overview_rollup_money AFTER INSERT OR DELETE ON overview_money
FOR EACH ROW EXECUTE FUNCTION overview_rollup_money();

-- Rows written before this migration.
INSERT INTO overview_order_days
SELECT connection_id, local_date, coalesce('=' || country, ''), coalesce('=' || currency, ''),
       conversion_rate = 1, COUNT(*), SUM(total_amount / conversion_rate)
FROM overview_orders WHERE valid AND local_date IS NOT NULL
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO overview_money_days
SELECT connection_id, kind, local_date, coalesce('=' || method, ''), coalesce('=' || currency, ''),
       conversion_rate = 1, COUNT(*), SUM(amount / conversion_rate)
FROM overview_money WHERE local_date IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO overview_product_months
SELECT connection_id, substr(local_date, 1, 7), coalesce('=' || product_id, ''),
       coalesce('=' || product_name, ''), COUNT(*), SUM(quantity),
       SUM(total_amount / conversion_rate)
FROM overview_lines WHERE valid AND local_date IS NOT NULL
GROUP BY 1, 2, 3, 4;

INSERT INTO overview_customer_orders
SELECT connection_id, customer_id, local_date, order_id, total_amount / conversion_rate,
       MIN(local_date) OVER (PARTITION BY connection_id, customer_id),
       LAG(local_date) OVER (PARTITION BY connection_id, customer_id ORDER BY local_date, order_id)
FROM overview_orders
WHERE valid AND local_date IS NOT NULL AND customer_id IS NOT NULL;
