-- A park's escalation policy starts only on its park's alarms, whatever its matchers say
-- (alerting/escalation.py, Policy.matches). Before that rule a park's policy without a park=
-- matcher started on other parks' alarms, and such an escalation, once started, is served to its
-- last level and repeated until the alarm is acknowledged or resolved. The ones still running are
-- stopped here, so they page nobody more; finished ones are left as they were, and all keep
-- the level they reached (the alarm's notification log shows what they paged).
UPDATE notify_escalations e
   SET done_at = now(), done_why = 'policy of another park'
  FROM notify_policies p, alerts a
 WHERE p.policy_id = e.policy_id
   AND a.alert_id = e.alert_id
   AND e.done_at IS NULL
   AND p.park_id IS NOT NULL
   AND p.park_id <> a.park_id;
