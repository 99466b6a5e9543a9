CREATE TABLE `golden_images` (
	`version` integer PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`phase` text NOT NULL,
	`source_session_id` text NOT NULL,
	`k8s_version` text NOT NULL,
	`created_at` integer NOT NULL,
	`ready_at` integer,
	`superseded_at` integer,
	`expires_at` integer NOT NULL,
	`disks` text NOT NULL,
	`failure_reason` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `golden_images_one_building` ON `golden_images` (`status`) WHERE status = 'building';--> statement-breakpoint
CREATE UNIQUE INDEX `golden_images_one_ready` ON `golden_images` (`status`) WHERE status = 'ready';--> statement-breakpoint
CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`session_id` text NOT NULL,
	`requested_strategy` text NOT NULL,
	`used_strategy` text NOT NULL,
	`fallback_reason` text,
	`fallback_detail` text,
	`golden_version` integer,
	`started_at` integer NOT NULL,
	`ended_at` integer,
	`outcome` text NOT NULL,
	`failure_reason` text,
	`synthetic` integer DEFAULT false NOT NULL,
	FOREIGN KEY (`session_id`) REFERENCES `sessions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `runs_synthetic_started_at_idx` ON `runs` (`synthetic`,`started_at`);--> statement-breakpoint
CREATE INDEX `runs_used_strategy_outcome_idx` ON `runs` (`used_strategy`,`outcome`);--> statement-breakpoint
CREATE INDEX `runs_golden_version_outcome_idx` ON `runs` (`golden_version`,`outcome`);--> statement-breakpoint
CREATE INDEX `runs_session_id_idx` ON `runs` (`session_id`);--> statement-breakpoint
CREATE INDEX `runs_unfinished_idx` ON `runs` (`started_at`) WHERE outcome = 'running';--> statement-breakpoint
CREATE TABLE `sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`namespace` text NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`strategy` text,
	`failure_reason` text,
	`run_id` text,
	`synthetic` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sessions_synthetic_created_at_idx` ON `sessions` (`synthetic`,`created_at`);--> statement-breakpoint
CREATE INDEX `sessions_status_expires_at_idx` ON `sessions` (`status`,`expires_at`);--> statement-breakpoint
CREATE TABLE `steps` (
	`run_id` text NOT NULL,
	`seq` integer NOT NULL,
	`strategy` text NOT NULL,
	`name` text NOT NULL,
	`started_at` integer NOT NULL,
	`ended_at` integer,
	`outcome` text NOT NULL,
	`detail` text,
	PRIMARY KEY(`run_id`, `seq`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
