"""The marts (campaign_performance, keyword_share_of_voice, tier_comparison, creator_shortlist, brand_creator_relationships, brand_search_lift): SQL per large mart, glue beside it (docs/marts.md)."""
