"""Referrals: the directory of partner institutions and the closed loop of each referral."""
