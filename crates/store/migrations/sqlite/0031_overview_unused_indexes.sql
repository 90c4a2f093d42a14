-- 0013's indexes for summing orders and money by day and for a customer's first order: the
-- rollups of 0030 answer those queries now, and every write keeps three indexes fewer.
-- (overview_lines_day stays: a period's partial months are summed from the lines.)
DROP INDEX overview_orders_day;
DROP INDEX overview_orders_customer;
DROP INDEX overview_money_day;
