ALTER TABLE `runs` ADD `pool` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `runs_pool_started_at_idx` ON `runs` (`started_at`) WHERE pool = 1;--> statement-breakpoint
ALTER TABLE `sessions` ADD `pool` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `sessions_pool_idx` ON `sessions` (`status`,`created_at`) WHERE pool = 1;