-- The partial join of a fan-in whose last dependency has just settled (FanInRoutes): it waits for nothing any more.
DELETE FROM step_joins WHERE id = :#joinKey
