-- energy_product_output (energy/products.py): monthly product output per enterprise and product,
-- for unit energy consumption (kgce per unit of product). One row per (enterprise, month, product):
--   enterprise_id, month (first day of the local month), product (code, e.g. "urea")
--   unit           the product's unit ("t", "kWh", "m3", ...)
--   quantity       output in the month, > 0
--   energy_share   share of the enterprise's energy the product takes, 0..1 (1: its only product)
--   limit_kgce     the unit consumption limit, kgce per unit (the quota standard that applies); NULL: none
--   entered_by, entered_at

CREATE TABLE energy_product_output (
    enterprise_id int NOT NULL REFERENCES enterprises (enterprise_id) ON DELETE CASCADE,
    month         date NOT NULL CHECK (extract(day FROM month) = 1),
    product       text NOT NULL,
    unit          text NOT NULL,
    quantity      float8 NOT NULL CHECK (quantity > 0),
    energy_share  float8 NOT NULL DEFAULT 1 CHECK (energy_share > 0 AND energy_share <= 1),
    limit_kgce    float8 CHECK (limit_kgce > 0),
    entered_by    text NOT NULL,
    entered_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (enterprise_id, month, product)
);
