-- The simulator's seed is not an attribute of a park: the API serves parks' attributes to every
-- user, and older demo models put the seed there. The simulator reads it from the model file.

UPDATE parks SET attributes = attributes - 'sim_seed' WHERE attributes ? 'sim_seed';
