-- The privacy officer's export (AVG art. 15, issue 16) is logged with the reason it was made
-- (the person's request); "who saw" questions give none, so the column stays optional.
ALTER TABLE privacy_questions ADD COLUMN why text;
