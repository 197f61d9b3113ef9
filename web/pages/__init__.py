"""What people see: the shopper's pages, the merchants' dashboard, the route map and languages."""
