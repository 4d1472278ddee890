CREATE TABLE IF NOT EXISTS routes (
  seq     bigint           NOT NULL,
  user_id integer          NOT NULL,
  ts      timestamptz      NOT NULL,
  lat     double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
  lon     double precision NOT NULL CHECK (lon BETWEEN -180 AND 180)
);
