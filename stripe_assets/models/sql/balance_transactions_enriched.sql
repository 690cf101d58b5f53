-- Every balance transaction with what caused it (its source object, the charge behind it, the
-- customer who paid) and the payout that took its funds to the bank.
-- The payout: for a payout's own transactions, that payout; for the others, the automatic payout
-- that paid them out, as Stripe lists it (stripe.payout_balance_transactions). Stripe links no
-- transaction to a manual payout, so theirs have none.
-- Objects meet only within their account (`account_id`: a connected account's or the platform's own).
WITH txn AS (
    SELECT * FROM stripe.balance_transactions WHERE _deleted_at IS NULL
),
paid_out AS (
    SELECT account_id, id AS balance_transaction_id, payout AS payout_id
    FROM stripe.payout_balance_transactions
    WHERE _deleted_at IS NULL
)
SELECT
    t.account_id,
    t.id AS balance_transaction_id,
    t.created,
    t.available_on,
    t.currency,
    t.type,
    t.reporting_category,
    t.status,
    t.amount,
    t.fee,
    t.net,
    t.source AS source_id,
    CASE
        WHEN c.id IS NOT NULL THEN 'charge'
        WHEN r.id IS NOT NULL THEN 'refund'
        WHEN d.id IS NOT NULL THEN 'dispute'
        WHEN p.id IS NOT NULL THEN 'payout'
        WHEN t.source LIKE 'ch\_%' ESCAPE '\' OR t.source LIKE 'py\_%' ESCAPE '\' THEN 'charge'
        WHEN t.source LIKE 're\_%' ESCAPE '\' OR t.source LIKE 'pyr\_%' ESCAPE '\' THEN 'refund'
        WHEN t.source LIKE 'dp\_%' ESCAPE '\' OR t.source LIKE 'du\_%' ESCAPE '\' THEN 'dispute'
        WHEN t.source LIKE 'po\_%' ESCAPE '\' THEN 'payout'
        WHEN t.source LIKE 'tr\_%' ESCAPE '\' THEN 'transfer'
        WHEN t.source LIKE 'trr\_%' ESCAPE '\' THEN 'transfer_reversal'
        WHEN t.source LIKE 'fee\_%' ESCAPE '\' THEN 'application_fee'
        WHEN t.source LIKE 'fr\_%' ESCAPE '\' THEN 'application_fee_refund'
    END AS source_object,
    coalesce(c.id, r.charge, d.charge) AS charge_id,
    charge.payment_intent AS payment_intent_id,
    charge.customer AS customer_id,
    coalesce(p.id, paid_out.payout_id) AS payout_id,
    payout.status AS payout_status,
    payout.arrival_date AS payout_arrival_date
FROM txn AS t
LEFT JOIN stripe.charges AS c ON c.id = t.source AND c.account_id IS NOT DISTINCT FROM t.account_id
LEFT JOIN stripe.refunds AS r ON r.id = t.source AND r.account_id IS NOT DISTINCT FROM t.account_id
LEFT JOIN stripe.disputes AS d ON d.id = t.source AND d.account_id IS NOT DISTINCT FROM t.account_id
LEFT JOIN stripe.payouts AS p ON p.id = t.source AND p.account_id IS NOT DISTINCT FROM t.account_id
LEFT JOIN stripe.charges AS charge ON charge.id = coalesce(c.id, r.charge, d.charge) AND charge.account_id IS NOT DISTINCT FROM t.account_id
LEFT JOIN paid_out ON paid_out.balance_transaction_id = t.id AND paid_out.account_id IS NOT DISTINCT FROM t.account_id
LEFT JOIN stripe.payouts AS payout ON payout.id = coalesce(p.id, paid_out.payout_id) AND payout.account_id IS NOT DISTINCT FROM t.account_id
ORDER BY t.created, t.account_id, t.id
