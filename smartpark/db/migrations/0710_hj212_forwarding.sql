-- HJ 212 packets as received, and their forwarding to upstream platforms (the ecology bureaus).
-- Written by forwarding/store.py only: the HJ 212 server records packets and queues them, the
-- forwarder (`smartpark hj212 forward`) sends and deletes them, `smartpark hj212 targets load`
-- configures the targets.
--
-- hj212_packets: one row per whole data packet (CN 2011, 2051, 2061, 2031) a data logger sent.
--   packet_id    bigint     identity, the order of arrival
--   device_id    int        the registry device whose MN sent it
--   st, cn       text       system code and command as sent
--   qn           text       the logger's QN ('' when it sent none); a repeat of the same
--                           (device_id, cn, data_time, qn) is the same packet and is kept once
--   data_time    timestamptz DataTime, read in the park's time zone
--   cp           text       the CP body (without &&) with 2017 pollutant codes and the data
--                           flags as received
--   received_at  timestamptz
--   recovered    bool       came back from a history extraction request, not live
--
-- hj212_forward_targets: one upstream platform. over_time_s and re_count are HJ 212-2017's
--   OverTime and ReCount (CN 1000): the seconds to wait for a reply and the resends before the
--   packet stays queued and the link is re-established. max_rate (packets/s) bounds what is sent,
--   backlog included; window bounds the packets awaiting a reply.
-- hj212_forward_outlets: which devices go to which target, under the MN and password that
--   target knows, and which data commands (cns).
-- hj212_forward_outbox: one row per (target, packet) still to deliver; deleted once delivered
--   (replied to, or written for a target that asks for no reply). Sent in outbox_id order.
--   history marks packets re-sent from stored data for an extraction request.
-- hj212_forward_status: the forwarder's view of each target (connected, last reply, counts).

CREATE TABLE hj212_packets (
    packet_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id   int NOT NULL REFERENCES devices (device_id) ON DELETE CASCADE,
    st          text NOT NULL CHECK (st ~ '^[0-9]{1,5}$'),
    cn          text NOT NULL CHECK (cn IN ('2011', '2051', '2061', '2031')),
    qn          text NOT NULL DEFAULT '' CHECK (qn = '' OR qn ~ '^[0-9]{17}$'),
    data_time   timestamptz NOT NULL,
    cp          text NOT NULL CHECK (length(cp) <= 65536),
    received_at timestamptz NOT NULL DEFAULT now(),
    recovered   bool NOT NULL DEFAULT false,
    UNIQUE (device_id, cn, data_time, qn)
);

CREATE TABLE hj212_forward_targets (
    target_id   int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9_.-]{1,64}$'),
    host        text NOT NULL CHECK (length(host) BETWEEN 1 AND 255),
    port        int NOT NULL CHECK (port BETWEEN 1 AND 65535),
    version     text NOT NULL DEFAULT '2017' CHECK (version IN ('2017', '2025')),
    reply       bool NOT NULL DEFAULT true,
    over_time_s float8 NOT NULL DEFAULT 5 CHECK (over_time_s > 0 AND over_time_s <= 600),
    re_count    int NOT NULL DEFAULT 3 CHECK (re_count BETWEEN 0 AND 10),
    max_rate    float8 NOT NULL DEFAULT 500 CHECK (max_rate > 0 AND max_rate <= 20000),
    "window"    int NOT NULL DEFAULT 64 CHECK ("window" BETWEEN 1 AND 1000),
    enabled     bool NOT NULL DEFAULT true
);

CREATE TABLE hj212_forward_outlets (
    target_id int NOT NULL REFERENCES hj212_forward_targets ON DELETE CASCADE,
    device_id int NOT NULL REFERENCES devices (device_id) ON DELETE CASCADE,
    mn        text NOT NULL CHECK (mn ~ '^[0-9A-Za-z_-]{1,32}$'),
    pw        text NOT NULL CHECK (pw ~ '^[!-~]{1,16}$'),
    cns       text[] NOT NULL DEFAULT '{2011,2051,2061,2031}'
              CHECK (cns <@ ARRAY['2011', '2051', '2061', '2031'] AND cardinality(cns) > 0),
    PRIMARY KEY (target_id, device_id),
    UNIQUE (target_id, mn)
);
CREATE INDEX hj212_forward_outlets_device ON hj212_forward_outlets (device_id);

CREATE TABLE hj212_forward_outbox (
    outbox_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    target_id   int NOT NULL REFERENCES hj212_forward_targets ON DELETE CASCADE,
    packet_id   bigint NOT NULL REFERENCES hj212_packets ON DELETE CASCADE,
    history     bool NOT NULL DEFAULT false,
    enqueued_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hj212_forward_outbox_target ON hj212_forward_outbox (target_id, outbox_id);
CREATE INDEX hj212_forward_outbox_packet ON hj212_forward_outbox (packet_id);

CREATE TABLE hj212_forward_status (
    target_id     int PRIMARY KEY REFERENCES hj212_forward_targets ON DELETE CASCADE,
    connected     bool NOT NULL DEFAULT false,
    last_connect  timestamptz,
    last_reply    timestamptz,
    last_error    text,
    sent          bigint NOT NULL DEFAULT 0,
    delivered     bigint NOT NULL DEFAULT 0,
    resent        bigint NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
