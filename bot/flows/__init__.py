"""The SOP's steps as services: workflow, delivery (outbox), deadlines, privacy, KTP."""
