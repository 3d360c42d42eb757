-- Overdue actions and reviews raise an event once: per action and due date, per ICO and planned
-- review date (as casework's deadline reminders do). A moved due date may raise again.
CREATE TABLE action_reminders (
    action_id uuid        NOT NULL REFERENCES ico_actions (action_id),
    due_on    date        NOT NULL,
    raised_at timestamptz NOT NULL,
    PRIMARY KEY (action_id, due_on)
);

CREATE TABLE review_reminders (
    ico_id         uuid        NOT NULL REFERENCES icos (ico_id),
    next_review_on date        NOT NULL,
    raised_at      timestamptz NOT NULL,
    PRIMARY KEY (ico_id, next_review_on)
);
