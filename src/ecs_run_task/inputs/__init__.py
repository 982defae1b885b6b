"""What the user gives: the input table, parsing and validation into a frozen `Spec`, task definition files. Pure: no AWS, no clock."""
