"""Messages between users of a team and its supervisors, and supervisors' notices to a team."""
