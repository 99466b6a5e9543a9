ALTER TABLE `steps` ADD `run_started_at` integer;--> statement-breakpoint
ALTER TABLE `steps` ADD `synthetic` integer DEFAULT false NOT NULL;--> statement-breakpoint
-- Hand-written, up to the indexes: drizzle-kit models neither the backfill nor triggers.
-- Existing steps take their run's values, before their index is built.
UPDATE `steps` SET `run_started_at` = `runs`.`started_at`, `synthetic` = `runs`.`synthetic`
FROM `runs` WHERE `runs`.`id` = `steps`.`run_id`;--> statement-breakpoint
-- A step inserted without them (the store's startStep) takes them from its run…
CREATE TRIGGER `steps_copy_run_on_insert` AFTER INSERT ON `steps`
WHEN NEW.`run_started_at` IS NULL
BEGIN
  UPDATE `steps` SET
    `run_started_at` = (SELECT `started_at` FROM `runs` WHERE `id` = NEW.`run_id`),
    `synthetic` = COALESCE((SELECT `synthetic` FROM `runs` WHERE `id` = NEW.`run_id`), NEW.`synthetic`)
  WHERE `rowid` = NEW.`rowid`;
END;--> statement-breakpoint
-- …as does a step moved to another run…
CREATE TRIGGER `steps_copy_run_on_move` AFTER UPDATE OF `run_id` ON `steps`
BEGIN
  UPDATE `steps` SET
    `run_started_at` = (SELECT `started_at` FROM `runs` WHERE `id` = NEW.`run_id`),
    `synthetic` = COALESCE((SELECT `synthetic` FROM `runs` WHERE `id` = NEW.`run_id`), NEW.`synthetic`)
  WHERE `rowid` = NEW.`rowid`;
END;--> statement-breakpoint
-- …and the steps of a run follow changes to its values.
-- A later migration that rebuilds `steps` (drizzle-kit's __new_steps copy) drops the two triggers
-- above with the old table, and must create them again.
CREATE TRIGGER `runs_copy_to_steps` AFTER UPDATE OF `started_at`, `synthetic` ON `runs`
WHEN OLD.`started_at` IS NOT NEW.`started_at` OR OLD.`synthetic` IS NOT NEW.`synthetic`
BEGIN
  UPDATE `steps` SET `run_started_at` = NEW.`started_at`, `synthetic` = NEW.`synthetic` WHERE `run_id` = NEW.`id`;
END;--> statement-breakpoint
CREATE INDEX `steps_metrics_idx` ON `steps` (`synthetic`,`strategy`,`name`,`run_started_at`,ended_at - started_at,`seq`) WHERE outcome = 'succeeded';--> statement-breakpoint
CREATE INDEX `runs_metrics_idx` ON `runs` (`synthetic`,`outcome`,`used_strategy`,ended_at - started_at,`started_at`,`ended_at`,`requested_strategy`);--> statement-breakpoint
CREATE INDEX `runs_succeeded_started_at_idx` ON `runs` (`synthetic`,`used_strategy`,`started_at`,`ended_at`) WHERE outcome = 'succeeded';--> statement-breakpoint
CREATE INDEX `runs_fallback_reason_idx` ON `runs` (`synthetic`,`fallback_reason`,`started_at`);
