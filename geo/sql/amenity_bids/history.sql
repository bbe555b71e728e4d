-- Every step of one bid, in the order recorded.
SELECT step, from_status, to_status, effective_on, recorded_on, actor, details
FROM amenity_bid_event
WHERE bid_id = %(id)s
ORDER BY id;
