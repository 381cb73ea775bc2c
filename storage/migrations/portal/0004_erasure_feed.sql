-- How far the portal has followed the erasure feed (RightsService.WatchErasures): each
-- erasure, made here or elsewhere, deletes the customer's sessions and sign-in links.
CREATE TABLE portal.erasure_feed (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  position bigint NOT NULL
);
INSERT INTO portal.erasure_feed (position) VALUES (0);
