-- economic_monthly gains main_products text null /* the enterprise's main products that month,
--     free text of at most 500 characters (主要产品) */: the economic report's last item.
--     Owner unchanged: aggregation/economic.py.
ALTER TABLE economic_monthly ADD COLUMN main_products text
    CHECK (main_products IS NULL OR length(main_products) <= 500);
