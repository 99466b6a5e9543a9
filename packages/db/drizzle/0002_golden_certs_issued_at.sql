-- Hand-written: drizzle-kit's `ADD certs_issued_at integer NOT NULL` fails on SQLite (a NOT NULL
-- column needs a default), and the existing images need their real issue time, so the table is
-- rebuilt as drizzle-kit rebuilds tables, filled from the chain of sessions and runs:
-- an image built from a bootstrapped session has the certificates of that session's run; one built
-- from a session cloned from version N has N's. Its expiry moves by as much, keeping the lifetime
-- it was given (expires_at - created_at). An image whose chain is not on record keeps its values.
CREATE TABLE `__new_golden_images` (
	`version` integer PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`phase` text NOT NULL,
	`source_session_id` text NOT NULL,
	`k8s_version` text NOT NULL,
	`created_at` integer NOT NULL,
	`ready_at` integer,
	`superseded_at` integer,
	`certs_issued_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`disks` text NOT NULL,
	`failure_reason` text
);
--> statement-breakpoint
WITH RECURSIVE `issued`(`version`, `at`) AS (
	SELECT `g`.`version`, `r`.`started_at`
	FROM `golden_images` `g`
	JOIN `sessions` `s` ON `s`.`id` = `g`.`source_session_id`
	JOIN `runs` `r` ON `r`.`id` = `s`.`run_id`
	WHERE `r`.`used_strategy` = 'bootstrap'
	-- UNION, not UNION ALL: a cycle in corrupt records ends instead of recursing forever.
	UNION
	SELECT `g`.`version`, `i`.`at`
	FROM `golden_images` `g`
	JOIN `sessions` `s` ON `s`.`id` = `g`.`source_session_id`
	JOIN `runs` `r` ON `r`.`id` = `s`.`run_id`
	JOIN `issued` `i` ON `i`.`version` = `r`.`golden_version`
	WHERE `r`.`used_strategy` = 'snapshot'
)
INSERT INTO `__new_golden_images` (
	`version`, `status`, `phase`, `source_session_id`, `k8s_version`, `created_at`, `ready_at`,
	`superseded_at`, `certs_issued_at`, `expires_at`, `disks`, `failure_reason`
)
SELECT
	`g`.`version`, `g`.`status`, `g`.`phase`, `g`.`source_session_id`, `g`.`k8s_version`, `g`.`created_at`, `g`.`ready_at`,
	`g`.`superseded_at`,
	COALESCE(`c`.`at`, `g`.`created_at`),
	COALESCE(`c`.`at` + (`g`.`expires_at` - `g`.`created_at`), `g`.`expires_at`),
	`g`.`disks`, `g`.`failure_reason`
FROM `golden_images` `g`
LEFT JOIN (SELECT `version`, MIN(`at`) AS `at` FROM `issued` GROUP BY `version`) `c` ON `c`.`version` = `g`.`version`;
--> statement-breakpoint
DROP TABLE `golden_images`;--> statement-breakpoint
ALTER TABLE `__new_golden_images` RENAME TO `golden_images`;--> statement-breakpoint
CREATE UNIQUE INDEX `golden_images_one_building` ON `golden_images` (`status`) WHERE status = 'building';--> statement-breakpoint
CREATE UNIQUE INDEX `golden_images_one_ready` ON `golden_images` (`status`) WHERE status = 'ready';
