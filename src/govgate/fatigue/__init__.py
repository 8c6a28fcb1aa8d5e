"""Signer fatigue (lesson 174): ack events, the 14-day heat-map and its daily history."""
