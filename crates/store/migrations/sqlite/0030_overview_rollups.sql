-- The dashboard's overview (overview.rs) reads a year of a large store from rollups of the
-- rows of migration 0013 instead of the rows themselves: valid orders per day, payments and
-- refunds per day, product lines per month, and each customer's orders with the customer's
-- first order day and the day of their previous order. A year of a 100,000-order store was
-- ~50,000 orders and ~150,000 lines summed and grouped at each render; the day rollups hold
-- a few thousand rows per year, the months a row per product sold in the month.
-- Triggers on the 0013 tables keep them in step in the same transaction (0013's triggers
-- delete and insert those rows on every write, so insert and delete are all there is to
-- follow); migrations/postgres has the same tables and trigger functions.
--
-- The rollups are WITHOUT ROWID tables: a period is one range of their primary key, read
-- without a lookup per row. Key columns that stand for a nullable value (country, currency,
-- method, product, name) hold '' for NULL and '=' || value otherwise, so that a primary key
-- covers them (NULLs are distinct in a key) and no value can be mistaken for another.

-- Valid orders with a day, per day, delivery country, currency and whether their rate is 1.
CREATE TABLE overview_order_days (
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    local_date     TEXT NOT NULL,
    country_key    TEXT NOT NULL,
    currency_key   TEXT NOT NULL,
    rate_one       BOOLEAN NOT NULL,
    orders         BIGINT NOT NULL,
    -- SUM(total_amount / conversion_rate)
    amount         REAL NOT NULL,
    PRIMARY KEY (connection_id, local_date, country_key, currency_key, rate_one)
) WITHOUT ROWID;

-- Payments and refunds with a day, per kind, day, method, currency and rate 1 or not.
CREATE TABLE overview_money_days (
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    local_date     TEXT NOT NULL,
    method_key     TEXT NOT NULL,
    currency_key   TEXT NOT NULL,
    rate_one       BOOLEAN NOT NULL,
    records        BIGINT NOT NULL,
    -- SUM(amount / conversion_rate)
    amount         REAL NOT NULL,
    PRIMARY KEY (connection_id, kind, local_date, method_key, currency_key, rate_one)
) WITHOUT ROWID;

-- Lines of valid orders with a day, per month (YYYY-MM), product and product name.
CREATE TABLE overview_product_months (
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    month          TEXT NOT NULL,
    product_key    TEXT NOT NULL,
    name_key       TEXT NOT NULL,
    lines          BIGINT NOT NULL,
    units          REAL NOT NULL,
    -- SUM(total_amount / conversion_rate)
    revenue        REAL NOT NULL,
    PRIMARY KEY (connection_id, month, product_key, name_key)
) WITHOUT ROWID;

-- Valid orders with a day and a customer. first_date: the customer's first such order;
-- prev_date: the day of the customer's order before this one (ordered by day, then order
-- id; NULL for the first). A period's distinct customers are its orders whose prev_date is
-- NULL or before the period, one per customer, so no grouping by customer is needed.
CREATE TABLE overview_customer_orders (
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    customer_id    TEXT NOT NULL,
    local_date     TEXT NOT NULL,
    order_id       TEXT NOT NULL,
    -- total_amount / conversion_rate
    amount         REAL NOT NULL,
    first_date     TEXT,
    prev_date      TEXT,
    PRIMARY KEY (connection_id, customer_id, local_date, order_id)
) WITHOUT ROWID;
CREATE INDEX overview_customer_orders_day
    ON overview_customer_orders (connection_id, local_date, first_date, prev_date, amount);

CREATE TRIGGER overview_rollup_order_insert AFTER INSERT ON overview_orders
WHEN NEW.valid AND NEW.local_date IS NOT NULL
BEGIN
    INSERT INTO overview_order_days
    VALUES (NEW.connection_id, NEW.local_date, coalesce('=' || NEW.country, ''),
            coalesce('=' || NEW.currency, ''), NEW.conversion_rate = 1,
            1, NEW.total_amount / NEW.conversion_rate)
    ON CONFLICT (connection_id, local_date, country_key, currency_key, rate_one)
    DO UPDATE SET orders = orders + 1, amount = amount + excluded.amount;
    INSERT INTO overview_customer_orders
    SELECT NEW.connection_id, NEW.customer_id, NEW.local_date, NEW.order_id,
           NEW.total_amount / NEW.conversion_rate, NULL, NULL
    WHERE NEW.customer_id IS NOT NULL;
    -- (A trigger's UPDATE takes no alias: the target is named in full.)
    UPDATE overview_customer_orders
    SET first_date = s.first_date, prev_date = s.prev_date
    FROM (SELECT local_date, order_id,
                 MIN(local_date) OVER () AS first_date,
                 LAG(local_date) OVER (ORDER BY local_date, order_id) AS prev_date
          FROM overview_customer_orders
          WHERE connection_id = NEW.connection_id AND customer_id = NEW.customer_id) AS s
    WHERE overview_customer_orders.connection_id = NEW.connection_id AND overview_customer_orders.customer_id = NEW.customer_id
      AND overview_customer_orders.local_date = s.local_date AND overview_customer_orders.order_id = s.order_id
      AND (overview_customer_orders.first_date IS NOT s.first_date OR overview_customer_orders.prev_date IS NOT s.prev_date);
END;

CREATE TRIGGER overview_rollup_order_delete AFTER DELETE ON overview_orders
WHEN OLD.valid AND OLD.local_date IS NOT NULL
BEGIN
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
    DELETE FROM overview_customer_orders
    WHERE connection_id = OLD.connection_id AND customer_id = OLD.customer_id
      AND local_date = OLD.local_date AND order_id = OLD.order_id;
    -- (A trigger's UPDATE takes no alias: the target is named in full.)
    UPDATE overview_customer_orders
    SET first_date = s.first_date, prev_date = s.prev_date
    FROM (SELECT local_date, order_id,
                 MIN(local_date) OVER () AS first_date,
                 LAG(local_date) OVER (ORDER BY local_date, order_id) AS prev_date
          FROM overview_customer_orders
          WHERE connection_id = OLD.connection_id AND customer_id = OLD.customer_id) AS s
    WHERE overview_customer_orders.connection_id = OLD.connection_id AND overview_customer_orders.customer_id = OLD.customer_id
      AND overview_customer_orders.local_date = s.local_date AND overview_customer_orders.order_id = s.order_id
      AND (overview_customer_orders.first_date IS NOT s.first_date OR overview_customer_orders.prev_date IS NOT s.prev_date);
END;

CREATE TRIGGER overview_rollup_line_insert AFTER INSERT ON overview_lines
WHEN NEW.valid AND NEW.local_date IS NOT NULL
BEGIN
    INSERT INTO overview_product_months
    VALUES (NEW.connection_id, substr(NEW.local_date, 1, 7), coalesce('=' || NEW.product_id, ''),
            coalesce('=' || NEW.product_name, ''), 1, NEW.quantity,
            NEW.total_amount / NEW.conversion_rate)
    ON CONFLICT (connection_id, month, product_key, name_key)
    DO UPDATE SET lines = lines + 1, units = units + excluded.units,
                  revenue = revenue + excluded.revenue;
END;

CREATE TRIGGER overview_rollup_line_delete AFTER DELETE ON overview_lines
WHEN OLD.valid AND OLD.local_date IS NOT NULL
BEGIN
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
END;

CREATE TRIGGER overview_rollup_money_insert AFTER INSERT ON overview_money
WHEN NEW.local_date IS NOT NULL
BEGIN
    INSERT INTO overview_money_days
    VALUES (NEW.connection_id, NEW.kind, NEW.local_date, coalesce('=' || NEW.method, ''),
            coalesce('=' || NEW.currency, ''), NEW.conversion_rate = 1,
            1, NEW.amount / NEW.conversion_rate)
    ON CONFLICT (connection_id, kind, local_date, method_key, currency_key, rate_one)
    DO UPDATE SET records = records + 1, amount = amount + excluded.amount;
END;

CREATE TRIGGER overview_rollup_money_delete AFTER DELETE ON overview_money
WHEN OLD.local_date IS NOT NULL
BEGIN
    UPDATE overview_money_days
    SET records = records - 1, amount = amount - OLD.amount / OLD.conversion_rate
    WHERE connection_id = OLD.connection_id AND kind = OLD.kind AND local_date = OLD.local_date
      AND method_key = coalesce('=' || OLD.method, '')
      AND currency_key = coalesce('=' || OLD.currency, '')
      AND rate_one = (OLD.conversion_rate = 1);
    DELETE FROM overview_money_days
    WHERE connection_id = OLD.connection_id AND kind = OLD.kind AND local_date = OLD.local_date
      AND method_key = coalesce('=' || OLD.method, '')
      AND currency_key = coalesce('=' || OLD.currency, '')
      AND rate_one = (OLD.conversion_rate = 1) AND records <= 0;
END;

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
