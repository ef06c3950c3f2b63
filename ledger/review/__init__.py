"""The committee's quarterly review and villagers' feedback on the posted quarter."""
