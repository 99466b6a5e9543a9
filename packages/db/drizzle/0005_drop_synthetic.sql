-- Hand-written, up to the first DROP INDEX: seeded rows leave with the column that marked them,
-- and the triggers of migration 0001 that copied it onto steps go first (SQLite refuses to drop a
-- column a trigger names).
DELETE FROM `steps` WHERE `synthetic` = 1;--> statement-breakpoint
DELETE FROM `runs` WHERE `synthetic` = 1;--> statement-breakpoint
DELETE FROM `sessions` WHERE `synthetic` = 1;--> statement-breakpoint
DROP TRIGGER `steps_copy_run_on_insert`;--> statement-breakpoint
DROP TRIGGER `steps_copy_run_on_move`;--> statement-breakpoint
DROP TRIGGER `runs_copy_to_steps`;--> statement-breakpoint
DROP INDEX `runs_synthetic_started_at_idx`;--> statement-breakpoint
DROP INDEX `runs_metrics_idx`;--> statement-breakpoint
DROP INDEX `runs_succeeded_started_at_idx`;--> statement-breakpoint
DROP INDEX `runs_fallback_reason_idx`;--> statement-breakpoint
CREATE INDEX `runs_metrics_idx` ON `runs` (`outcome`,`used_strategy`,ended_at - started_at,`started_at`,`ended_at`,`requested_strategy`);--> statement-breakpoint
CREATE INDEX `runs_succeeded_started_at_idx` ON `runs` (`used_strategy`,`started_at`,`ended_at`) WHERE outcome = 'succeeded';--> statement-breakpoint
CREATE INDEX `runs_fallback_reason_idx` ON `runs` (`fallback_reason`,`started_at`);--> statement-breakpoint
ALTER TABLE `runs` DROP COLUMN `synthetic`;--> statement-breakpoint
DROP INDEX `sessions_synthetic_created_at_idx`;--> statement-breakpoint
CREATE INDEX `sessions_created_at_idx` ON `sessions` (`created_at`,`id`);--> statement-breakpoint
ALTER TABLE `sessions` DROP COLUMN `synthetic`;--> statement-breakpoint
DROP INDEX `steps_metrics_idx`;--> statement-breakpoint
CREATE INDEX `steps_metrics_idx` ON `steps` (`strategy`,`name`,`run_started_at`,ended_at - started_at,`seq`) WHERE outcome = 'succeeded';--> statement-breakpoint
ALTER TABLE `steps` DROP COLUMN `synthetic`;--> statement-breakpoint
-- Hand-written: the triggers of migration 0001 again, copying only the run's start.
CREATE TRIGGER `steps_copy_run_on_insert` AFTER INSERT ON `steps`
WHEN NEW.`run_started_at` IS NULL
BEGIN
  UPDATE `steps` SET `run_started_at` = (SELECT `started_at` FROM `runs` WHERE `id` = NEW.`run_id`)
  WHERE `rowid` = NEW.`rowid`;
END;--> statement-breakpoint
CREATE TRIGGER `steps_copy_run_on_move` AFTER UPDATE OF `run_id` ON `steps`
BEGIN
  UPDATE `steps` SET `run_started_at` = (SELECT `started_at` FROM `runs` WHERE `id` = NEW.`run_id`)
  WHERE `rowid` = NEW.`rowid`;
END;--> statement-breakpoint
CREATE TRIGGER `runs_copy_to_steps` AFTER UPDATE OF `started_at` ON `runs`
WHEN OLD.`started_at` IS NOT NEW.`started_at`
BEGIN
  UPDATE `steps` SET `run_started_at` = NEW.`started_at` WHERE `run_id` = NEW.`id`;
END;
