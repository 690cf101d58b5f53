-- One row per account, UTC day and currency: what moved through the balance that day, and the payments tried.
WITH txn AS (
    SELECT account_id, CAST(timezone('UTC', created) AS DATE) AS day, currency, reporting_category AS category, amount, fee, net
    FROM stripe.balance_transactions
    WHERE _deleted_at IS NULL
),
moved AS (
    SELECT
        account_id,
        day,
        currency,
        coalesce(sum(amount) FILTER (WHERE category = 'charge'), 0) AS gross_charges,
        coalesce(-sum(amount) FILTER (WHERE category = 'refund'), 0) AS refunds,
        coalesce(-sum(amount) FILTER (WHERE category = 'dispute'), 0) AS disputes,
        coalesce(sum(amount) FILTER (
            WHERE category NOT IN ('charge', 'refund', 'dispute', 'payout', 'payout_reversal')
        ), 0) AS other_activity,
        coalesce(sum(fee) FILTER (WHERE category NOT IN ('payout', 'payout_reversal')), 0) AS fees,
        coalesce(sum(net) FILTER (WHERE category NOT IN ('payout', 'payout_reversal')), 0) AS net_activity,
        coalesce(-sum(net) FILTER (WHERE category IN ('payout', 'payout_reversal')), 0) AS payouts,
        count(*) AS balance_transactions
    FROM txn
    GROUP BY account_id, day, currency
),
tried AS (
    SELECT
        account_id,
        CAST(timezone('UTC', created) AS DATE) AS day,
        currency,
        count(*) FILTER (WHERE status = 'succeeded') AS charges_succeeded,
        count(*) FILTER (WHERE status = 'failed') AS charges_failed
    FROM stripe.charges
    WHERE _deleted_at IS NULL
    GROUP BY 1, 2, 3
)
SELECT
    account_id,
    day,
    currency,
    coalesce(tried.charges_succeeded, 0) AS charges_succeeded,
    coalesce(tried.charges_failed, 0) AS charges_failed,
    coalesce(moved.gross_charges, 0) AS gross_charges,
    coalesce(moved.refunds, 0) AS refunds,
    coalesce(moved.disputes, 0) AS disputes,
    coalesce(moved.other_activity, 0) AS other_activity,
    coalesce(moved.fees, 0) AS fees,
    coalesce(moved.net_activity, 0) AS net_activity,
    coalesce(moved.payouts, 0) AS payouts,
    coalesce(moved.balance_transactions, 0) AS balance_transactions
FROM moved
FULL OUTER JOIN tried USING (account_id, day, currency)
ORDER BY account_id, day, currency
