"""Pure rules of milestone contracts: entities, state machine, money, reminders, use cases."""
