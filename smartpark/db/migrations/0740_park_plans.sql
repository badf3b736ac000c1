-- The park plan (园区一张图): an SVG of the park's plots and zones, drawn by the ops-centre page.
-- Written by smartpark/registry.py only (`smartpark registry load`: the model's plan, or one
-- generated from its enterprises and their devices' zones; see smartpark/park_plan.py).
--
-- parks.plan_svg  text  the plan as SVG; regions are the elements with a name attribute (a
--                       plot: the enterprise code; a zone: "{enterprise}/{zone}"); NULL: none
ALTER TABLE parks ADD COLUMN IF NOT EXISTS plan_svg text;
