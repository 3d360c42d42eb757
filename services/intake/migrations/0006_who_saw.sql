-- "Who saw this person" (issue 16): intake shows no notice to any person, so what it can tell is
-- who asked about the person — the export questions (0005) and now the "who saw" question
-- itself, which gives no reason (`why` becomes optional; an export still needs one).
ALTER TABLE privacy_questions ALTER COLUMN why DROP NOT NULL;
ALTER TABLE privacy_questions DROP CONSTRAINT privacy_questions_question_check;
ALTER TABLE privacy_questions ADD CONSTRAINT privacy_questions_question_check
    CHECK (question IN ('privacy_export', 'privacy_accesses'));
ALTER TABLE privacy_questions ADD CONSTRAINT privacy_questions_export_why
    CHECK (question <> 'privacy_export' OR why IS NOT NULL);
